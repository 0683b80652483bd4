"""Documents the office prints or hands out: sign-in sheets and certificates of attendance.

Each document is an HTML template under templates/documents/ turned into PDF by WeasyPrint
(booking.documents.rendering, the one place that makes PDFs and knows the fonts). The sign-in
sheet is also shown as a print-friendly page from the same template part.
"""
from .certificates import certificate_file_names, certificate_pdf, certificates_zip, participant_certificate_pdf
from .sign_in_sheets import SignInSheet, sign_in_sheet, sign_in_sheet_pdf

__all__ = ["SignInSheet", "certificate_file_names", "certificate_pdf", "certificates_zip",
           "participant_certificate_pdf", "sign_in_sheet", "sign_in_sheet_pdf"]
