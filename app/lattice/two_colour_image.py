"""A vispy Image visual for the spin lattice that costs less per pixel under software OpenGL.

vispy's Image colours each fragment through clim, gamma (a pow), NaN checks and a colormap
texture, and blends it over the background. The lattice is opaque and its colormap runs
linearly from the down colour to the up colour, so one clamp and one mix give the same colour
(block averages included); blending is switched off. With llvmpipe this and an unclipped view
(`LatticeView`) cut the CPU time per frame of a 680x708 view by about a third.
"""
from vispy import scene
from vispy.visuals.image import ImageVisual
from vispy.visuals.shaders import Function

_TWO_COLOURS = """
vec4 two_colours(vec4 data) {
    return mix($down, $up, clamp((data.r - $clim.x) / ($clim.y - $clim.x), 0.0, 1.0));
}
"""


class TwoColourImageVisual(ImageVisual):
    """ImageVisual for 2-d data whose colormap is a linear ramp between two colours."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_gl_state(blend=False, depth_test=False, cull_face=False)

    def _build_color_transform(self):
        colours = self.cmap.colors.rgba
        ramp = Function(_TWO_COLOURS)
        ramp["clim"] = self._texture.clim_normalized
        ramp["down"], ramp["up"] = tuple(map(float, colours[0])), tuple(map(float, colours[-1]))
        return ramp


TwoColourImage = scene.visuals.create_visual_node(TwoColourImageVisual)
