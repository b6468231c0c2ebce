/*!
 * crvideo.js: the browser SDK of crvnode, for the CRVideo API.
 *
 * A classic script with no dependency. It defines, as globals, every
 * CRVideo_* function and callback object of the CRVideo meeting-management
 * API, plus the media functions a meeting needs. Web apps written against
 * the CRVideo web SDK work by loading this file instead of the vendor's.
 *
 * Everything goes over crvnode's public JSON-RPC protocol (docs/protocol/README.md)
 * on one WebSocket at /ws, and over two RTCPeerConnections: the "up"
 * connection this SDK offers when first needed (what the user publishes,
 * and the "crv-data" data channel of transfers) and closes when idle, and
 * the "down" connection the node offers (what the user receives).
 *
 * Conventions of the CRVideo API kept here:
 * - callbacks are global objects with a .callback field the app assigns;
 *   one handler per event, assigning again replaces it;
 * - object arguments arrive parsed;
 * - the cookie argument never leaves the page: it is kept by request and
 *   handed back in the callback;
 * - a failure reaches the Fail/Rslt callback with the CRVideo error code
 *   (sdkEr), which is the JSON-RPC error code the node answered;
 * - callbacks never run inside the call that causes them.
 *
 * Loaded as an ES module (crvideo.mjs) the same names are exports and no
 * global is defined.
 *
 * The node makes this script by joining the parts of its web/sdk/ folder:
 * head.js (this header and the scope all parts share), then one file per
 * area, and tail.js (the exports); web/README.md lists them.
 */
(function (root) {
  'use strict';

  var VERSION = '1.0.0';
  var win = typeof window !== 'undefined' ? window : globalThis; // root is the exports object in the module build
  var api = {}; // every exported name
  var ns = { version: VERSION }; // the crvideo namespace; transfer.js sets its _transfer
