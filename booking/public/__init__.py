"""The participants' pages: catalogue, seminar page, registration and the personal manage link."""
