"""The PDF backend of publication figures: matplotlib's, with mathtext measured and drawn as in
the PNG and the SVG.

matplotlib's PDF renderer lays mathtext ($...$) out with glyph metrics taken at the text's own
size at 72 dpi, which FreeType rounds to whole points: an expression lands about half a point off
where the Agg PNG and the SVG (glyph outlines, metrics at 100 pt) put it. Here mathtext is
measured like the other backends (matplotlib.textpath.TextToPath) and drawn as glyph outlines;
plain text stays real, embedded TrueType text (pdf.fonttype 42). Used through
`Figure.savefig(..., format="pdf", backend="module://isinglab.app.output.figures.pdf_canvas")`.
"""
from __future__ import annotations

from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_pdf import FigureCanvasPdf, PdfFile, PdfPages, RendererPdf

BACKEND = "module://isinglab.app.output.figures.pdf_canvas"


class _Renderer(RendererPdf):
    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath and ismath != "TeX":
            return self._text2path.get_text_width_height_descent(s, prop, ismath)
        return super().get_text_width_height_descent(s, prop, ismath)

    def draw_mathtext(self, gc, x, y, s, prop, angle):
        self._draw_text_as_path(gc, x, y, s, prop, angle, True, None)


class FigureCanvas(FigureCanvasPdf):
    def print_pdf(self, filename, *, bbox_inches_restore=None, metadata=None, **_ignored):
        """matplotlib's FigureCanvasPdf.print_pdf with _Renderer (savefig's other options, such as
        orientation, do not apply to a PDF page: matplotlib drops them too)."""
        dpi = self.figure.dpi
        self.figure.dpi = 72  # there are 72 pdf points to an inch
        width, height = self.figure.get_size_inches()
        file = filename._ensure_file() if isinstance(filename, PdfPages) else PdfFile(filename, metadata=metadata)
        try:
            file.newPage(width, height)
            renderer = MixedModeRenderer(self.figure, width, height, dpi, _Renderer(file, dpi, height, width),
                                         bbox_inches_restore=bbox_inches_restore)
            self.figure.draw(renderer)
            renderer.finalize()
            if not isinstance(filename, PdfPages):
                file.finalize()
        finally:
            if isinstance(filename, PdfPages):
                file.endStream()
            else:
                file.close()
