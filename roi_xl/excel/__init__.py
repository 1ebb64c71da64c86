"""The business functions inside Excel: xlwings UDFs and the files that set up an add-in."""
