"""The lattice view (view.LatticeView) and its parts: colour schemes (colours, Qt-free),
display kernels (downsample), GL probing (gl_support), the vispy and painter backends, the GL
window canvas and the two-colour image visual."""
