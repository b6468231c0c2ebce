  // =====================================================================
  // sdk/tail.js, the end of crvideo.js (web/README.md): every name the
  // parts put in api becomes a global, or an export of crvideo.mjs.

  api.crvideo = ns;

  Object.keys(api).forEach(function (k) { root[k] = api[k]; });
})(typeof CRVIDEO_MODULE_EXPORTS !== 'undefined' ? CRVIDEO_MODULE_EXPORTS : (typeof globalThis !== 'undefined' ? globalThis : window));
