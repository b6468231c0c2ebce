  // =====================================================================
  // sdk/devices.js, part of crvideo.js (web/README.md), after media.js: the
  // devices (mic, camera, screen), their capture and settings, simulcast,
  // and opening and closing them in a meeting.

  // ---------------------------------------------------------------------
  // Devices: mic, camera, screen.

  // The camera's settings (CRVideo_SetVideoCfg): the size and frame rate
  // asked of the camera, and the most the full size may send (maxbps, in
  // bits per second; 0: the SDK's own choice). wh_rate is kept for apps.
  var videoCfg = { width: 1280, height: 720, fps: 30, maxbps: 0, wh_rate: 0 };
  // The microphone's processing (CRVideo_SetAudioCfg): 1 on, 0 off.
  var audioCfg = { aec: 1, ans: 1, agc: 1 };

  function cameraConstraints() {
    return { width: { ideal: videoCfg.width }, height: { ideal: videoCfg.height }, frameRate: { ideal: videoCfg.fps } };
  }

  function micConstraints() {
    return { echoCancellation: !!audioCfg.aec, noiseSuppression: !!audioCfg.ans, autoGainControl: !!audioCfg.agc };
  }

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

  // The SDK's own bitrates of the layers, by their number and rid.
  var layerBitrates = { 3: { q: 150000, h: 500000, f: 1500000 }, 2: { h: 150000, f: 600000 } };

  // limitEncodings applies videoCfg to a camera's encodings: the full size
  // may send maxbps, a half-size layer a third of it, a quarter-size one a
  // tenth; every layer at most fps frames a second.
  function limitEncodings(encs) {
    var defaults = layerBitrates[encs.length] || {};
    encs.forEach(function (e) {
      var scale = e.scaleResolutionDownBy || 1;
      if (videoCfg.maxbps > 0) e.maxBitrate = Math.max(30000, Math.round(videoCfg.maxbps * (scale >= 4 ? 0.1 : scale >= 2 ? 1 / 3 : 1)));
      else if (e.rid && defaults[e.rid]) e.maxBitrate = defaults[e.rid];
      else delete e.maxBitrate;
      e.maxFramerate = videoCfg.fps;
    });
    return encs;
  }

  // cameraEncodings are the encodings a camera's sender starts with.
  function cameraEncodings(track) {
    var enc = simulcast ? simulcastEncodings(track) : null;
    if (!enc && videoCfg.maxbps > 0) enc = [{}];
    return enc ? limitEncodings(enc) : null;
  }

  // applyVideoCfg applies videoCfg to the open camera (its constraints)
  // and to what its sender sends (setParameters), without renegotiation.
  function applyVideoCfg() {
    var work = [];
    var track = media.localTrack('camera');
    if (track && track.readyState === 'live' && track.applyConstraints) {
      work.push(track.applyConstraints(cameraConstraints()).catch(function (e) { warn('camera constraints', e); }));
    }
    var sender = media.sender('camera');
    if (sender && sender.getParameters) {
      var p = sender.getParameters();
      if (p.encodings && p.encodings.length) {
        limitEncodings(p.encodings);
        work.push(sender.setParameters(p).catch(function (e) { warn('camera encodings', e); }));
      }
    }
    return Promise.all(work);
  }

  function applyAudioCfg() {
    var track = media.localTrack('mic');
    if (track && track.readyState === 'live' && track.applyConstraints) {
      return track.applyConstraints(micConstraints()).catch(function (e) { warn('mic constraints', e); });
    }
    return Promise.resolve();
  }

  // ---------------------------------------------------------------------
  // The devices of the browser, known at once (the vendor's device queries
  // are synchronous): listed at CRVideo_Init, after each capture (labels
  // come with the permission) and when a device comes or goes.

  var deviceList = { camera: [], mic: [], speaker: [] }; // [{deviceId, label}]
  var watchingDevices = false;

  function refreshDevices() {
    var md = win.navigator && win.navigator.mediaDevices;
    if (!md || typeof md.enumerateDevices !== 'function') return Promise.resolve();
    if (!watchingDevices && typeof md.addEventListener === 'function') {
      watchingDevices = true;
      md.addEventListener('devicechange', function () { refreshDevices(); });
    }
    return md.enumerateDevices().then(function (list) {
      var next = { camera: [], mic: [], speaker: [] };
      list.forEach(function (d) {
        var k = d.kind === 'videoinput' ? 'camera' : d.kind === 'audioinput' ? 'mic' : d.kind === 'audiooutput' ? 'speaker' : '';
        if (k) next[k].push({ deviceId: str(d.deviceId), label: str(d.label) });
      });
      deviceList = next;
    }, function (e) { warn('enumerateDevices', e); });
  }

  // deviceNames names the devices of a kind as the vendor's functions do:
  // their labels, or "camera 1", "mic 2", … before the user allowed any.
  function deviceNames(kind) {
    return deviceList[kind].map(function (d, i) { return d.label || kind + ' ' + (i + 1); });
  }

  function deviceByName(kind, name) {
    var i = deviceNames(kind).indexOf(str(name));
    return i >= 0 ? deviceList[kind][i] : null;
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
      mediaFailed(source, mediaError(e));
    });
  }

  // mediaFailed reports that the user's own mic or camera could not be
  // opened: NotifyMediaError (crvnode's), and OpenMicFailed or
  // OpenVideoFailed (the current generation's, with a description).
  function mediaFailed(source, err) {
    var code = codeOf(err);
    fire('NotifyMediaError', code, source);
    if (source === 'mic') fire('OpenMicFailed', code, str(err && err.message));
    else if (source === 'camera') fire('OpenVideoFailed', code, str(err && err.message), 1);
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
    else if (source === 'mic') p = md.getUserMedia({ audio: withDevice(micConstraints(), chosen.mic), video: false });
    else p = md.getUserMedia({ video: withDevice(cameraConstraints(), chosen.camera), audio: false });
    return p.then(function (stream) {
      var t = source === 'mic' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
      if (!t) throw rpcError(ERR.MEDIA_OPEN_FAILED, 'no track');
      refreshDevices(); // the labels, now that the user allowed a device
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
    mediaFailed(source, err);
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
