"""The Evaluate dock: PR curves, AP table, confusion matrix and error filters (issue 9)."""
