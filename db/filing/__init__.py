"""Operators' 登记/备案 filing: the workflow (data), cases and uploaded documents, readiness self-check, and the summary documents (DOCX, PDF)."""
