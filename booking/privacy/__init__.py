"""What the application does with personal data: export, deletion and retention (issue 17)."""
