"""Operators' 登记/备案 filing. Pure (no database): the workflow data (`workflow_schema`, loaded and cross-checked
by `workflow`), case snapshots (`case_view`), upload checks (`uploads`), the readiness self-check (`readiness`)
and the summary documents (`summary`: text and DOCX, `pdf`). In the database: the tables (`models`) and the
cases' operations (`cases`, every one taking the caller's session)."""
