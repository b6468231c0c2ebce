  // =====================================================================
  // sdk/video.js, part of crvideo.js (web/README.md), after devices.js: the
  // video objects that show a member's camera or screen, and diagnostics.

  // ---------------------------------------------------------------------
  // Video objects: CRVideo_CreatVideoObj.

  var videoObjs = new Set();
  var watching = {}; // "userID/source" -> count of video objects watching it

  function sourceOf(videoID) {
    return Number(videoID) === 2 ? 'screen' : 'camera';
  }

  /** A UI object that shows one member's camera or screen in its own <video>. */
  function VideoObj() {
    var el = document.createElement('div');
    el.className = 'crvideo-video';
    var v = document.createElement('video');
    v.autoplay = true;
    v.playsInline = true;
    v.muted = true; // sound plays on its own, video objects show pictures only
    v.setAttribute('playsinline', '');
    v.style.width = '100%';
    v.style.height = '100%';
    v.style.objectFit = 'contain';
    v.style.background = '#000';
    el.appendChild(v);
    this._el = el;
    this._video = v;
    this._userID = '';
    this._videoID = 0;
    this._key = '';
    this._track = null;
    videoObjs.add(this);
  }

  VideoObj.prototype.handler = function () {
    return this._el;
  };

  VideoObj.prototype.getUserID = function () {
    return this._userID;
  };

  VideoObj.prototype.getVideoID = function () {
    return this._videoID;
  };

  /** setVideo shows userID's camera (videoID 1, the default) or screen (videoID 2). */
  VideoObj.prototype.setVideo = function (userID, videoID) {
    var uid = str(userID);
    var vid = Number(videoID) === 2 ? 2 : 1;
    var key = uid + '/' + sourceOf(vid);
    var own = uid === selfID();
    if (key !== this._key) {
      this.clear();
      this._userID = uid;
      this._videoID = vid;
      this._key = key;
      if (!own) watching[key] = (watching[key] || 0) + 1;
    }
    if (!own && uid) {
      var h = Math.round((this._el.clientHeight || 0) * (win.devicePixelRatio || 1));
      call('setVideo', { userID: uid, videoID: vid, maxHeight: h }, null, function (code) { warn('setVideo', uid, vid, 'failed', code); });
    }
    this._refresh();
  };

  /** clear stops showing (and, if no other object shows it, receiving) the video. */
  VideoObj.prototype.clear = function () {
    var key = this._key;
    if (key && this._userID !== selfID() && watching[key]) {
      if (--watching[key] === 0) {
        delete watching[key];
        if (sess && sess.meeting) call('clearVideo', { userID: this._userID, videoID: this._videoID });
      }
    }
    this._userID = '';
    this._videoID = 0;
    this._key = '';
    this._show(null);
  };

  // _reset forgets the video when the meeting ends (the node forgets it too).
  VideoObj.prototype._reset = function () {
    if (this._key) delete watching[this._key];
    this._userID = '';
    this._videoID = 0;
    this._key = '';
    this._show(null);
  };

  VideoObj.prototype._refresh = function () {
    if (!this._key) return;
    if (this._userID === selfID()) this._show(media.localTrack(sourceOf(this._videoID)));
    else this._show(media.remoteTrack(this._key));
  };

  VideoObj.prototype._show = function (track) {
    if (track === this._track) return;
    this._track = track;
    var v = this._video;
    v.srcObject = track ? new MediaStream([track]) : null;
    if (track) {
      var p = v.play();
      if (p && p.catch) p.catch(function () {});
    }
  };

  api.CRVideo_CreatVideoObj = function () {
    return new VideoObj();
  };
  api.CRVideo_CreateVideoObj = api.CRVideo_CreatVideoObj;

  // ---------------------------------------------------------------------
  // Diagnostics for tests and tools: the SDK's WebRTC objects.

  ns.peerConnections = function () {
    return { up: media.up, down: media.down, dataChannel: media.dc };
  };
  ns.remoteTrack = function (userID, source) {
    return media.remoteTrack(str(userID) + '/' + (source || 'camera'));
  };
