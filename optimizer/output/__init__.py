"""Output, one module per format: numbers (formats), JSON documents and CSV rows (data), table
cells and their sentences (cells), each command's view (views), text tables and Markdown
(text), the HTML report (html) and the PNG chart (chart)."""
