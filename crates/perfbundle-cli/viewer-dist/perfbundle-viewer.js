/*
 * <perfbundle-viewer>: the perfbundle viewer as a custom element, for docs
 * pages. One script tag, then as many elements as you like:
 *
 *   <script src="viewer/perfbundle-viewer.js"></script>
 *   <perfbundle-viewer src="runs/v2.perfbundle"></perfbundle-viewer>
 *   <perfbundle-viewer src="runs/v2.perfbundle" base="runs/v1.perfbundle" view="compare"></perfbundle-viewer>
 *
 * Attributes: `src` (the bundle, relative to the page) and every view option
 * of the viewer's permalinks under the same name: view, base, series, from,
 * to, profile, focus, q, re, icicle, fview, tw, by, idle, all, pair, dfocus. Each element mounts
 * a viewer of its own in an open shadow root (the page's CSS does not reach
 * in); it is `display: block` and as wide as its container; its height is its
 * content's, unless the page sets one (then it scrolls). It never touches the
 * page's URL. The viewer's files are loaded once, from beside this script.
 *
 * scripts/build-viewer.sh writes this file into the built viewer with the
 * names of the current build filled in.
 */
(function () {
  'use strict';
  if (window.customElements && customElements.get('perfbundle-viewer')) return;
  var GLUE = 'perfbundle-web-ab0fbd760b0b8a3d.js';
  var WASM = 'perfbundle-web-ab0fbd760b0b8a3d_bg.wasm';
  var CSS = 'style-d6bab6e682c979ad.css';
  var script = document.currentScript ||
    Array.prototype.slice.call(document.querySelectorAll('script[src]')).reverse()
      .find(function (s) { return /perfbundle-viewer\.js(\?|#|$)/.test(s.src); });
  var base = new URL('.', script ? script.src : document.baseURI);
  var KEYS = ['view', 'base', 'series', 'from', 'to', 'profile', 'focus', 'q', 're', 'icicle', 'fview', 'tw', 'by', 'idle', 'all', 'pair', 'dfocus'];
  var wasm = null;
  var sheet = null;

  // The wasm viewer, started once for the page (without mounting itself on <body>).
  function load() {
    if (!wasm) {
      window.__perfbundleElements = true;
      wasm = import(new URL(GLUE, base).href).then(function (mod) {
        return mod.default({ module_or_path: new URL(WASM, base) }).then(function () { return mod; });
      });
    }
    return wasm;
  }

  // The viewer's stylesheet, fetched once and shared by every shadow root.
  function styles() {
    if (!sheet) {
      sheet = fetch(new URL(CSS, base)).then(function (r) { return r.text(); }).then(function (text) {
        try {
          var s = new CSSStyleSheet();
          s.replaceSync(text);
          return { sheet: s };
        } catch (e) {
          return { text: text };
        }
      });
    }
    return sheet;
  }

  function params(el) {
    var p = new URLSearchParams();
    var src = el.getAttribute('src');
    if (src) p.set('bundle', src);
    KEYS.forEach(function (k) {
      var v = el.getAttribute(k);
      if (v !== null) p.set(k, v);
    });
    return p.toString();
  }

  class PerfbundleViewer extends HTMLElement {
    static get observedAttributes() { return ['src'].concat(KEYS); }

    connectedCallback() { this._render(); }

    disconnectedCallback() { this._unmount(); }

    attributeChangedCallback() {
      if (this.isConnected && this._root) this._render();
    }

    _unmount() {
      if (this._id !== undefined && this._mod) this._mod.unmount_viewer(this._id);
      this._id = undefined;
    }

    _render() {
      var self = this;
      var shadow = this.shadowRoot || this.attachShadow({ mode: 'open' });
      var token = (this._token = (this._token || 0) + 1);
      Promise.all([load(), styles()]).then(function (r) {
        if (token !== self._token || !self.isConnected) return;
        var mod = r[0], css = r[1];
        self._unmount();
        self._mod = mod;
        shadow.textContent = '';
        if (css.sheet) {
          shadow.adoptedStyleSheets = [css.sheet];
        } else {
          var style = document.createElement('style');
          style.textContent = css.text;
          shadow.appendChild(style);
        }
        self._root = document.createElement('div');
        self._root.className = 'pb-root';
        shadow.appendChild(self._root);
        self._id = mod.mount_viewer(self._root, params(self));
      }).catch(function (e) {
        if (token !== self._token) return;
        shadow.textContent = 'perfbundle viewer: cannot load (' + e + ')';
      });
    }
  }

  customElements.define('perfbundle-viewer', PerfbundleViewer);
})();
