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
  function VideoObj(opts) {
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
    var o = parsed(opts);
    if (o && typeof o === 'object' && o.poster) v.poster = str(o.poster);
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
    if (this._destroyed) return;
    var uid = str(userID);
    var vid = this._screen || Number(videoID) === 2 ? 2 : 1;
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

  /** savePicToBase64 is the picture shown now, as a data: URL ("png", the default, or "jpg"); "" when none shows. */
  VideoObj.prototype.savePicToBase64 = function (format) {
    var v = this._video;
    if (!this._track || !v.videoWidth || !v.videoHeight || v.readyState < 2) return '';
    var c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    var g = c.getContext('2d');
    if (!g) return '';
    g.drawImage(v, 0, 0, c.width, c.height);
    var f = str(format).toLowerCase().replace(/^\./, '');
    try {
      return c.toDataURL(f === 'jpg' || f === 'jpeg' ? 'image/jpeg' : 'image/png');
    } catch (e) {
      warn('savePicToBase64', e);
      return '';
    }
  };

  /** destroy clears the object, takes its element out of the page and forgets it. */
  VideoObj.prototype.destroy = function () {
    this.clear();
    this._destroyed = true;
    videoObjs.delete(this);
    if (this._el.parentNode) this._el.parentNode.removeChild(this._el);
  };

  /** id sets the element's id, or returns it without an argument. */
  VideoObj.prototype.id = function (value) {
    if (value === undefined) return this._el.id;
    this._el.id = str(value);
  };

  /** width and height set the element's size in CSS pixels, or return it without an argument. */
  VideoObj.prototype.width = function (value) {
    if (value === undefined) return this._el.clientWidth;
    this._el.style.width = typeof value === 'number' ? value + 'px' : str(value);
  };

  VideoObj.prototype.height = function (value) {
    if (value === undefined) return this._el.clientHeight;
    this._el.style.height = typeof value === 'number' ? value + 'px' : str(value);
  };

  /** keepAspectRatio(true) shows the whole picture (the default), false fills the element. */
  VideoObj.prototype.keepAspectRatio = function (value) {
    if (value === undefined) return this._video.style.objectFit !== 'fill';
    this._video.style.objectFit = value ? 'contain' : 'fill';
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

  /** opts (the current generation's): {poster}, an image shown until the video plays. */
  api.CRVideo_CreatVideoObj = function (opts) {
    return new VideoObj(opts);
  };
  api.CRVideo_CreateVideoObj = api.CRVideo_CreatVideoObj;

  /**
   * A video object for screen shares: setVideo(sharerID) shows the
   * sharer's screen (any videoID given is ignored). opts: {poster}.
   */
  api.CRVideo_CreatScreenShareObj = function (opts) {
    var o = new VideoObj(opts);
    o._screen = true;
    o._el.className = 'crvideo-video crvideo-screen';
    return o;
  };
  api.CRVideo_CreateScreenShareObj = api.CRVideo_CreatScreenShareObj;

  // ---------------------------------------------------------------------
  // Diagnostics for tests and tools: the SDK's WebRTC objects.

  ns.peerConnections = function () {
    return { up: media.up, down: media.down, dataChannel: media.dc };
  };
  ns.remoteTrack = function (userID, source) {
    return media.remoteTrack(str(userID) + '/' + (source || 'camera'));
  };
