"""Files the features share (kernel): staff spreadsheets read in bounded memory, XLSX,
CSV and PDF written safely, uploads inspected in a sandboxed worker process."""
