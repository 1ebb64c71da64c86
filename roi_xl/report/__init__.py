"""The investment justification: facts from a read workbook, the HTML page, its charts and
the PDF printed from it."""
