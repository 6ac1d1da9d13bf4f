"""The PDF: ReportLab document, story flowables, side panels, styles and right-to-left text."""

from digest.render.pdf.document import render_pdf

__all__ = ["render_pdf"]
