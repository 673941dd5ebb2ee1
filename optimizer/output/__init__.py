"""Output: plain data (JSON, CSV rows, table cells), text and Markdown, HTML, charts."""
