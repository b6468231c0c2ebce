  // =====================================================================
  // sdk/media.js, part of crvideo.js (web/README.md), after core.js: the
  // media layer. The up and down PeerConnections, the local and remote
  // tracks, the devices (mic, camera, screen) and simulcast, and the video
  // objects that show them.

  // ---------------------------------------------------------------------
  // Media: the up and down connections.

  var media = (function () {
    var m = {
      s: null,
      up: null, upChain: Promise.resolve(), upSent: false, upLocal: [],
      down: null, downSess: '', downChain: Promise.resolve(), downSent: false, downLocal: [],
      deadSess: [], // session ids of down connections closed here: their late offers are stale
      downInfo: {}, // mid -> {userID, source}
      local: {}, // source -> {tr, track}
      want: {}, // source -> the app wants it open
      devChain: {}, // source -> Promise: device operations one at a time
      remote: {}, // "userID/source" -> MediaStreamTrack
      audio: {}, // "userID/mic" -> <audio>
      dc: null
    };

    function rtcConfig() {
      return { iceServers: m.s ? m.s.iceServers : [], bundlePolicy: 'max-bundle' };
    }

    // freshICE renews the TURN credentials of the login (REST credentials
    // whose username starts with their expiry time) before a connection
    // is opened late in a session.
    function freshICE(s) {
      var soon = Date.now() / 1000 + 300;
      var stale = s.iceServers.some(function (x) {
        var r = /^(\d+):/.exec(x && typeof x.username === 'string' ? x.username : '');
        return r && Number(r[1]) < soon;
      });
      if (!stale) return Promise.resolve();
      return rpc('refreshIceServers', null).then(function (res) {
        if (Array.isArray(res.iceServers)) s.iceServers = res.iceServers;
      }, function () { /* keep what we have */ });
    }

    function candidateOut(c) {
      return { candidate: { candidate: c.candidate, sdpMid: c.sdpMid === null ? undefined : c.sdpMid,
        sdpMLineIndex: c.sdpMLineIndex === null ? undefined : c.sdpMLineIndex,
        usernameFragment: c.usernameFragment === null ? undefined : c.usernameFragment } };
    }

    m.start = function (s) {
      if (typeof RTCPeerConnection === 'undefined') return; // signaling works without WebRTC
      m.s = s;
      var pc = new RTCPeerConnection(rtcConfig());
      m.up = pc;
      pc.onicecandidate = function (e) {
        if (!e.candidate || !e.candidate.candidate || m.up !== pc) return;
        if (!m.upSent) m.upLocal.push(e.candidate);
        else notify('upCandidate', candidateOut(e.candidate));
      };
      pc.onconnectionstatechange = function () {
        // The up connection failed (network change, NAT timeout): restart
        // ICE with fresh credentials. The node offers the down connection,
        // so only the up one is ours to restart.
        if (pc.connectionState !== 'failed' || m.up !== pc) return;
        freshICE(s).then(function () {
          if (m.up !== pc) return;
          try { pc.setConfiguration(rtcConfig()); } catch (e) { /* keep the old servers */ }
          pc.restartIce();
          return m.negotiateUp();
        }).catch(function (e) { warn('ICE restart', e); });
      };
      var dc = pc.createDataChannel('crv-data', { ordered: true });
      dc.binaryType = 'arraybuffer';
      m.dc = dc;
      ns._transfer.attach(dc);
      m.negotiateUp().catch(function (e) { warn('up connection', e); });
    };

    m.close = function () {
      ['mic', 'camera', 'screen'].forEach(function (src) { m.closeOwn(src); });
      m.closeDown();
      ns._transfer.detach();
      if (m.up) m.up.close();
      m.up = null;
      m.dc = null;
      m.s = null;
      m.upSent = false;
      m.upLocal = [];
      m.local = {};
      m.want = {};
    };

    // upTracks says which source each sending transceiver carries.
    function upTracks(pc) {
      var out = [];
      Object.keys(m.local).forEach(function (src) {
        var l = m.local[src];
        if (l.tr && l.tr.mid !== null && pc.getTransceivers().indexOf(l.tr) >= 0) out.push({ mid: l.tr.mid, source: src });
      });
      return out;
    }

    // negotiateUp offers the up connection's current state and applies the
    // node's answer; negotiations run one at a time.
    m.negotiateUp = function () {
      var pc = m.up;
      var p = m.upChain.then(function () {
        if (m.up !== pc || !pc) throw rpcError(ERR.NOT_LOGIN, 'media closed');
        return pc.createOffer().then(function (o) {
          return pc.setLocalDescription(o);
        }).then(function () {
          return rpc('upOffer', { sdp: pc.localDescription.sdp, tracks: upTracks(pc) });
        }).then(function (res) {
          if (m.up !== pc) return;
          return pc.setRemoteDescription({ type: 'answer', sdp: res.sdp }).then(function () {
            if (!m.upSent) {
              m.upSent = true;
              m.upLocal.forEach(function (c) { notify('upCandidate', candidateOut(c)); });
              m.upLocal = [];
            }
          });
        });
      });
      m.upChain = p.catch(function () {});
      return p;
    };

    m.upCandidate = function (c) {
      var pc = m.up;
      if (!pc || !c) return;
      m.upChain = m.upChain.then(function () {
        if (m.up === pc && pc.remoteDescription) return pc.addIceCandidate(c);
      }).catch(function (e) { warn('up candidate', e); });
    };

    // sessionID is the o= line's session id: a new one is a new connection.
    function sessionID(sdp) {
      var r = /^o=\S+ (\S+)/m.exec(sdp || '');
      return r ? r[1] : '';
    }

    function newDown(id) {
      var pc = new RTCPeerConnection(rtcConfig());
      m.down = pc;
      m.downSess = id;
      m.downSent = false;
      m.downLocal = [];
      pc.onicecandidate = function (e) {
        if (!e.candidate || !e.candidate.candidate || m.down !== pc) return;
        if (!m.downSent) m.downLocal.push(e.candidate);
        else notify('downCandidate', candidateOut(e.candidate));
      };
      return pc;
    }

    m.closeDown = function () {
      if (m.down) m.down.close();
      if (m.downSess) {
        m.deadSess.push(m.downSess);
        if (m.deadSess.length > 16) m.deadSess.shift();
      }
      m.down = null;
      m.downSess = '';
      m.downInfo = {};
      syncRemote(null);
    };

    m.downOffer = function (o) {
      var s = m.s;
      if (!s) return;
      m.downChain = m.downChain.then(function () {
        if (m.s !== s) return;
        var id = sessionID(o.sdp);
        if (m.deadSess.indexOf(id) >= 0) return; // renegotiation of a connection left behind (the meeting was left)
        if (m.down && m.downSess !== id) m.closeDown();
        return (m.down ? Promise.resolve() : freshICE(s)).then(function () {
          if (m.s !== s) return;
          return answerDown(o, m.down || newDown(id));
        });
      }).catch(function (e) { warn('down offer', e); });
    };

    function answerDown(o, pc) {
      var info = {};
      (o.tracks || []).forEach(function (t) { info[t.mid] = { userID: str(t.userID), source: str(t.source) }; });
      return pc.setRemoteDescription({ type: 'offer', sdp: o.sdp }).then(function () {
        if (m.down !== pc) return;
        m.downInfo = info;
        syncRemote(pc);
        return pc.createAnswer();
      }).then(function (a) {
        if (m.down !== pc) return;
        return pc.setLocalDescription(a).then(function () {
          return rpc('downAnswer', { sdp: pc.localDescription.sdp }).catch(function (e) {
            if (m.down === pc) m.closeDown(); // the node no longer has this connection
            throw e;
          });
        }).then(function () {
          if (m.down !== pc || m.downSent) return;
          m.downSent = true;
          m.downLocal.forEach(function (c) { notify('downCandidate', candidateOut(c)); });
          m.downLocal = [];
        });
      });
    }

    m.downCandidate = function (c) {
      if (!c) return;
      m.downChain = m.downChain.then(function () {
        if (m.down && m.down.remoteDescription) return m.down.addIceCandidate(c);
      }).catch(function (e) { warn('down candidate', e); });
    };

    // syncRemote makes the received tracks those of the last offer: mids
    // the offer lists carry a member's mic, camera or screen.
    function syncRemote(pc) {
      var next = {};
      if (pc) {
        pc.getTransceivers().forEach(function (t) {
          var info = t.mid !== null ? m.downInfo[t.mid] : null;
          if (info && t.receiver && t.receiver.track) next[info.userID + '/' + info.source] = t.receiver.track;
        });
      }
      var prev = m.remote;
      m.remote = next;
      Object.keys(prev).forEach(function (k) {
        if (next[k] !== prev[k]) stopAudio(k);
      });
      Object.keys(next).forEach(function (k) {
        if (next[k].kind === 'audio' && prev[k] !== next[k]) playAudio(k, next[k]);
      });
      videoObjs.forEach(function (v) { v._refresh(); });
    }

    var blocked = [];
    function playAudio(key, track) {
      if (typeof document === 'undefined') return;
      var a = document.createElement('audio');
      a.autoplay = true;
      a.srcObject = new MediaStream([track]);
      m.audio[key] = a;
      if (m.speaker && a.setSinkId) a.setSinkId(m.speaker).catch(function (e) { warn('speaker', e); });
      var p = a.play();
      if (p && p.catch) {
        p.catch(function () {
          // Autoplay refused until the user interacts with the page.
          blocked.push(a);
          document.addEventListener('click', retryAudio, { once: true, capture: true });
        });
      }
    }

    function retryAudio() {
      var list = blocked;
      blocked = [];
      list.forEach(function (a) { if (a.srcObject) a.play().catch(function () {}); });
    }

    function stopAudio(key) {
      var a = m.audio[key];
      if (!a) return;
      delete m.audio[key];
      a.pause();
      a.srcObject = null;
    }

    // setSpeaker plays every remote member's sound on the output device id
    // ("" the default), where the browser can choose (setSinkId).
    m.setSpeaker = function (id) {
      m.speaker = id;
      Object.keys(m.audio).forEach(function (k) {
        var a = m.audio[k];
        if (a.setSinkId) a.setSinkId(id).catch(function (e) { warn('speaker', e); });
      });
    };

    m.remoteTrack = function (key) {
      return m.remote[key] || null;
    };

    m.localTrack = function (source) {
      var l = m.local[source];
      return l && l.track ? l.track : null;
    };

    // device runs f after the previous operation on the same source.
    m.device = function (source, f) {
      var p = (m.devChain[source] || Promise.resolve()).then(f);
      m.devChain[source] = p.catch(function () {});
      return p;
    };

    // publish makes track the up connection's source, adding a
    // transceiver (and negotiating) the first time only.
    m.publish = function (source, track) {
      var pc = m.up;
      if (!pc) {
        track.stop();
        return Promise.reject(rpcError(ERR.MEDIA_OPEN_FAILED, 'no up connection'));
      }
      var l = m.local[source];
      if (l && l.tr && pc.getTransceivers().indexOf(l.tr) >= 0) {
        var old = l.track;
        l.track = track;
        // The old track stops once the new one is in place: a sender whose
        // track ended before the replacement may encode nothing more.
        return l.tr.sender.replaceTrack(track).then(function () {
          if (old && old !== track) old.stop();
        }, function (e) {
          if (l.track === track) l.track = old;
          if (old !== track) track.stop();
          throw e;
        });
      }
      var init = { direction: 'sendonly', streams: [new MediaStream([track])] };
      var enc = source === 'camera' && simulcast ? simulcastEncodings(track) : null;
      if (enc) init.sendEncodings = enc;
      var tr = pc.addTransceiver(track, init);
      m.local[source] = { tr: tr, track: track };
      return m.negotiateUp();
    };

    // closeOwn stops capturing a source at once; the transceiver stays for
    // the next opening, so that no renegotiation is needed.
    m.closeOwn = function (source) {
      m.want[source] = false;
      var l = m.local[source];
      if (!l || !l.track) return;
      var t = l.track;
      l.track = null;
      t.onended = null;
      t.stop();
      if (l.tr && m.up && m.up.connectionState !== 'closed') l.tr.sender.replaceTrack(null).catch(function () {});
      videoObjs.forEach(function (v) { v._refresh(); });
    };

    return m;
  })();

  // ---------------------------------------------------------------------
  // Devices: mic, camera, screen.

  var videoConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
  var audioConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

  // Simulcast: a camera is sent as up to three encodings, rids q (quarter
  // size), h (half) and f (full), so that the node can send each
  // subscriber the one that fits its window and its link
  // (docs/protocol/media.md, "Simulcast layer choice"). A camera under 360 lines gets two, under 180 one. The layers
  // are fixed when the camera is first published in a session.
  var simulcast = true;

  function simulcastEncodings(track) {
    var st = track.getSettings ? track.getSettings() : {};
    var h = Math.min(st.height || 720, st.width || 1280);
    if (h >= 360) {
      return [
        { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
        { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
        { rid: 'f', maxBitrate: 1500000 }
      ];
    }
    if (h >= 180) {
      return [
        { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 150000 },
        { rid: 'f', maxBitrate: 600000 }
      ];
    }
    return null;
  }

  // switchDevice captures source from the device now chosen and sends it
  // in place of the open one (no renegotiation: watchers keep watching).
  // A device that cannot be opened is reported by NotifyMediaError and the
  // open one stays.
  function switchDevice(source) {
    var s = sess;
    media.device(source, function () {
      var have = media.localTrack(source);
      if (!have || have.readyState !== 'live' || !media.want[source] || sess !== s) return; // used at the next opening
      var st = have.getSettings ? have.getSettings() : {};
      if (chosen[source] && st.deviceId === chosen[source]) return;
      return capture(source).then(function (track) {
        if (sess !== s || !media.want[source] || media.localTrack(source) !== have) {
          track.stop();
          return;
        }
        return media.publish(source, track).then(function () {
          videoObjs.forEach(function (v) { v._refresh(); });
        });
      });
    }).catch(function (e) {
      fire('NotifyMediaError', codeOf(mediaError(e)), source);
    });
  }

  /** crvnode: the camera to capture (a deviceId of enumerateDevices; "" the default); an open camera switches at once. */
  api.CRVideo_SetCamera = function (deviceId) {
    chosen.camera = str(deviceId);
    switchDevice('camera');
  };

  /** crvnode: the microphone to capture ("" the default); an open mic switches at once. */
  api.CRVideo_SetMic = function (deviceId) {
    chosen.mic = str(deviceId);
    switchDevice('mic');
  };

  /** crvnode: the output device for the other members' sound ("" the default), where the browser supports setSinkId. */
  api.CRVideo_SetSpeaker = function (deviceId) {
    media.setSpeaker(str(deviceId));
  };

  /** crvnode: sends cameras opened from now on as simulcast layers (default) or as one encoding. */
  api.CRVideo_SetSimulcast = function (enabled) {
    simulcast = !!enabled;
  };

  function mediaError(e) {
    if (e && e.crv) return e;
    var name = e && e.name;
    var code = name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError' ?
      ERR.MEDIA_PERMISSION_DENIED : ERR.MEDIA_OPEN_FAILED;
    return rpcError(code, String(e && e.message || e));
  }

  // The devices the user chose (crvnode's CRVideo_SetCamera/SetMic); ""
  // lets the browser choose.
  var chosen = { camera: '', mic: '' };

  function withDevice(constraints, id) {
    if (!id) return constraints;
    var c = {};
    Object.keys(constraints).forEach(function (k) { c[k] = constraints[k]; });
    c.deviceId = { exact: id };
    return c;
  }

  function capture(source) {
    var md = win.navigator && win.navigator.mediaDevices;
    if (!md) return Promise.reject(rpcError(ERR.MEDIA_OPEN_FAILED, 'no media devices (a secure context is needed)'));
    var p;
    if (source === 'screen') p = md.getDisplayMedia({ video: true, audio: false });
    else if (source === 'mic') p = md.getUserMedia({ audio: withDevice(audioConstraints, chosen.mic), video: false });
    else p = md.getUserMedia({ video: withDevice(videoConstraints, chosen.camera), audio: false });
    return p.then(function (stream) {
      var t = source === 'mic' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
      if (!t) throw rpcError(ERR.MEDIA_OPEN_FAILED, 'no track');
      return t;
    }, function (e) { throw mediaError(e); });
  }

  // openOwn captures a source, publishes it and asks the node to open it.
  function openOwn(source, method, params) {
    var s = sess;
    media.want[source] = true;
    return media.device(source, function () {
      if (!s || sess !== s || !s.meeting) throw rpcError(s ? ERR.MEETNOTEXIST : ERR.NOT_LOGIN, 'not in a meeting');
      if (!media.want[source]) throw rpcError(ERR.MEDIA_OPEN_FAILED, 'closed meanwhile');
      var have = media.localTrack(source);
      var got = have && have.readyState === 'live' ? Promise.resolve(have) : capture(source);
      return got.then(function (track) {
        if (sess !== s || !media.want[source]) {
          track.stop();
          throw rpcError(ERR.MEDIA_OPEN_FAILED, 'closed meanwhile');
        }
        if (track === have) return;
        return media.publish(source, track).then(function () {
          videoObjs.forEach(function (v) { v._refresh(); });
          if (source === 'screen') {
            track.onended = function () { if (media.localTrack('screen') === track) api.CRVideo_StopScreenShare(); };
          }
        });
      }).then(function () {
        return rpc(method, params);
      });
    });
  }

  function setOpening(kind) {
    var m = member(selfID());
    if (!m) return;
    var field = kind === 'audio' ? 'audioStatus' : 'videoStatus';
    if (m[field] === ST_OPEN || m[field] === ST_OPENING) return;
    var old = m[field];
    m[field] = ST_OPENING;
    fire(kind === 'audio' ? 'AudioStatusChanged' : 'VideoStatusChanged', m.userID, old, ST_OPENING);
  }

  function openFailed(kind, source, err) {
    media.closeOwn(source);
    var m = member(selfID());
    var field = kind === 'audio' ? 'audioStatus' : 'videoStatus';
    if (m && m[field] === ST_OPENING) {
      m[field] = ST_CLOSED;
      fire(kind === 'audio' ? 'AudioStatusChanged' : 'VideoStatusChanged', m.userID, ST_OPENING, ST_CLOSED);
    }
    fire('NotifyMediaError', codeOf(err), source);
  }

  function device(kind, source, open) {
    return function (userID) {
      var s = sess;
      if (!s || !s.loggedIn) return;
      var uid = userID === undefined || userID === null || userID === '' ? s.userID : str(userID);
      var method = kind === 'audio' ? (open ? 'openMic' : 'closeMic') : (open ? 'openVideo' : 'closeVideo');
      if (uid !== s.userID) {
        call(method, { userID: uid }, null, function (code) { warn(method, uid, 'failed', code); });
        return;
      }
      if (!open) {
        media.closeOwn(source);
        call(method, { userID: uid }, null, function (code) { warn(method, 'failed', code); });
        return;
      }
      setOpening(kind);
      openOwn(source, method, { userID: uid }).catch(function (err) { openFailed(kind, source, err); });
    };
  }

  api.CRVideo_OpenMic = device('audio', 'mic', true);
  api.CRVideo_CloseMic = device('audio', 'mic', false);
  api.CRVideo_OpenVideo = device('video', 'camera', true);
  api.CRVideo_CloseVideo = device('video', 'camera', false);

  api.CRVideo_GetAudioStatus = function (userID) {
    var m = member(userID === undefined ? selfID() : userID);
    return m ? m.audioStatus : 0;
  };

  api.CRVideo_GetVideoStatus = function (userID) {
    var m = member(userID === undefined ? selfID() : userID);
    return m ? m.videoStatus : 0;
  };

  /** The other members' open cameras (videoID 1) and screen shares (videoID 2). */
  api.CRVideo_GetWatchableVideos = function () {
    var s = sess;
    if (!s || !s.meeting) return [];
    var out = [];
    api.CRVideo_GetAllMembers().forEach(function (mi) {
      if (mi.userID === s.userID) return;
      if (mi.videoStatus === ST_OPEN) out.push({ userID: mi.userID, videoID: 1 });
      if (s.meeting.screens.has(mi.userID)) out.push({ userID: mi.userID, videoID: 2 });
    });
    return out;
  };

  api.CRVideo_StartScreenShare = function () {
    var s = sess;
    if (!s || !s.loggedIn) {
      later(function () { fire('StartScreenShareRslt', ERR.NOT_LOGIN); });
      return;
    }
    openOwn('screen', 'startScreenShare', null).then(function () {
      fire('StartScreenShareRslt', ERR.NOERR);
    }, function (err) {
      media.closeOwn('screen');
      fire('StartScreenShareRslt', codeOf(err));
    });
  };

  api.CRVideo_StopScreenShare = function () {
    media.closeOwn('screen');
    call('stopScreenShare', null,
      function () { fire('StopScreenShareRslt', ERR.NOERR); },
      function (code) { fire('StopScreenShareRslt', code); });
  };

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
