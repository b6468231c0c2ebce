  // ---------------------------------------------------------------------
  // Diagnostics for tests and tools: the SDK's WebRTC objects.

  ns.peerConnections = function () {
    return { up: media.up, down: media.down, dataChannel: media.dc };
  };
  ns.remoteTrack = function (userID, source) {
    return media.remoteTrack(str(userID) + '/' + (source || 'camera'));
  };

  api.crvideo = ns;

  Object.keys(api).forEach(function (k) { root[k] = api[k]; });
})(typeof CRVIDEO_MODULE_EXPORTS !== 'undefined' ? CRVIDEO_MODULE_EXPORTS : (typeof globalThis !== 'undefined' ? globalThis : window));
