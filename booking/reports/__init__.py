"""The funder's report: counts for a period (booking.reports.services), its bar charts drawn as SVG
(charts.py) and its downloads as XLSX and PDF (downloads.py). Only counts: no person in it."""
