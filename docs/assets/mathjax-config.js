// MathJax 3 for pymdownx.arithmatex (generic mode): \( \) inline, \[ \] display.
// The renderer itself (assets/mathjax/tex-svg.js) is copied from an installed package at
// build time by docs/hooks.py: nothing is loaded from the network.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
    enableMenu: false, // the menu's speech explorer would fetch its rules from a CDN
  },
  svg: { fontCache: "global" },
};
document$.subscribe(() => {
  if (window.MathJax && MathJax.typesetPromise) {
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    MathJax.typesetPromise();
  }
});
