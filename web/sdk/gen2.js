  // =====================================================================
  // sdk/gen2.js, part of crvideo.js (web/README.md), after sha256.js: the
  // names of the vendor's current web SDK generation (its "H5" SDK 2.x)
  // that the older documents do not have: CRVideo_Init's Promise, SDK
  // parameters, token renewal, the meeting functions that take no subject
  // or password, nicknames, and the device and video settings. Last, the
  // names crvnode does not implement: they fail through their callback
  // with CRVIDEOSDK_NOT_IMPLEMENTED and warn once, so that an app calling
  // them gets an answer rather than a ReferenceError.

  [
    'UpdateTokenRslt', 'NotifyTokenWillExpire', 'NotifyNickNameChanged',
    'OpenVideoFailed', 'OpenMicFailed',
    'CreateCloudMixerFailed', 'CloudMixerStateChanged', 'CloudMixerOutputInfoChanged', 'CloudMixerInfoChanged'
  ].forEach(function (n) { defCallback(n); });

  // ---------------------------------------------------------------------
  // Initialisation.

  // CRVideo_Init and CRVideo_SetSDKParams: kept. Of the vendor's, none
  // changes what the SDK does; crvnode's upIdleTimeout (ms, default 30000,
  // 0 or less never) is how long an up connection in no meeting, publishing
  // nothing and with no transfer under way stays open (media.js).
  var sdkParams = {};

  function setSDKParams(params) {
    var p = parsed(params);
    if (!p || typeof p !== 'object') return;
    Object.keys(p).forEach(function (k) { sdkParams[k] = p[k]; });
    if (p.upIdleTimeout !== undefined) media.upActivity(); // an idle timer running takes the new value
  }

  /**
   * CRVideo_Init(SDKParams?) turns the SDK on and returns a Promise: it
   * resolves once the browser's devices are listed, and rejects with 8004
   * (an Error whose code it is) in a browser without WebRTC or WebSocket.
   * Its valueOf() is CRVideo_NOERR, so that older apps' test
   * CRVideo_Init() == CRVideo_NOERR still holds.
   */
  api.CRVideo_Init = function (SDKParams) {
    inited = true;
    setSDKParams(SDKParams);
    var p;
    if (typeof RTCPeerConnection === 'undefined' || typeof WebSocket === 'undefined') {
      var e = rpcError(ERR.BROWSER_NOT_SUPPORTED, 'this browser has no ' + (typeof WebSocket === 'undefined' ? 'WebSocket' : 'RTCPeerConnection'));
      e.valueOf = function () { return ERR.BROWSER_NOT_SUPPORTED; };
      p = Promise.reject(e);
    } else {
      p = new Promise(function (resolve) {
        var done = function () { resolve(ERR.NOERR); };
        setTimeout(done, 3000); // never wait long for the device list
        refreshDevices().then(done, done);
      });
    }
    p.catch(function () {}); // an older app that ignores the Promise sees no unhandled rejection
    p.valueOf = function () { return ERR.NOERR; };
    return p;
  };

  /** The current generation's SDK parameters (e.g. MSProtocol, kept, crvnode needs none), and crvnode's upIdleTimeout. */
  api.CRVideo_SetSDKParams = function (params) {
    setSDKParams(params);
  };

  api.CRVideo_GetSDKVersion = function () {
    return VERSION;
  };

  /** Writes a line to the browser console (the vendor SDK writes its log file). */
  api.CRVideo_WriteLog = function (text) {
    if (typeof console !== 'undefined' && console.info) console.info('crvideo log:', str(text));
  };

  // ---------------------------------------------------------------------
  // Tokens and nicknames.

  /** A fresh token for the session logged in with CRVideo_LoginByToken: CRVideo_UpdateTokenRslt. */
  api.CRVideo_UpdateToken = function (token, cookie) {
    call('updateToken', { token: str(token) },
      function () { fire('UpdateTokenRslt', ERR.NOERR, cookie); },
      function (code) { fire('UpdateTokenRslt', code, cookie); });
  };

  /** Renames the user (its own userID only): CRVideo_NotifyNickNameChanged follows, for it and its meeting. */
  api.CRVideo_SetNickName = function (userID, nickName) {
    var uid = str(userID) || selfID();
    call('setNickName', { userID: uid, nickName: str(nickName) }, null,
      function (code) { warn('CRVideo_SetNickName', uid, 'failed', code); });
  };

  // nickNameChanged takes the node's notifyNickNameChanged.
  function nickNameChanged(p) {
    var s = sess;
    var uid = str(p.userID);
    var m = member(uid);
    if (m) m.nickName = m.nickname = str(p.newName);
    if (s && uid === s.userID) s.nickName = str(p.newName);
    fire('NotifyNickNameChanged', uid, str(p.oldName), str(p.newName));
  }

  // ---------------------------------------------------------------------
  // Meetings without subject or password.

  /** Creates a meeting without password, its subject the user's nickname: CreateMeetingSuccess / CreateMeetingFail. */
  api.CRVideo_CreateMeeting2 = function (cookie) {
    var s = sess;
    var subject = Array.from(str(s && (s.nickName || s.userID)).trim()).slice(0, 50).join('') || 'meeting';
    api.CRVideo_CreateMeeting(subject, 0, cookie);
  };

  /**
   * Enters a meeting as the logged-in user, with its login nickname:
   * EnterMeetingRslt. A password the page has seen for the meeting (made,
   * listed or called into) is given.
   */
  api.CRVideo_EnterMeeting3 = function (meetID, cookie) {
    var s = sess;
    var id = Math.trunc(Number(meetID)) || 0;
    api.CRVideo_EnterMeeting(id, knownPswd.get(id) || '', s ? s.userID : '', s ? s.nickName : '', cookie);
  };

  // ---------------------------------------------------------------------
  // Video and audio settings and devices.

  /**
   * The cameras of a member ([{userID, videoID, videoName}]): the user's
   * own are the browser's, videoID 1, 2, … in its order; another member
   * has the one the node carries, videoID 1.
   */
  api.CRVideo_GetAllVideoInfo = function (userID) {
    var uid = userID === undefined || userID === null || userID === '' ? selfID() : str(userID);
    if (uid && uid === selfID()) {
      return deviceNames('camera').map(function (n, i) { return { userID: uid, videoID: i + 1, videoName: n }; });
    }
    var m = member(uid);
    return m && m.videoStatus >= ST_CLOSED ? [{ userID: uid, videoID: 1, videoName: '' }] : [];
  };

  /** The camera a member sends: for the user, the index (from 1) of the chosen camera; 0 when none. */
  api.CRVideo_GetDefaultVideo = function (userID) {
    var uid = userID === undefined || userID === null || userID === '' ? selfID() : str(userID);
    if (uid && uid === selfID()) {
      var track = media.localTrack('camera');
      var id = chosen.camera || (track && track.getSettings ? str(track.getSettings().deviceId) : '');
      var i = deviceList.camera.map(function (d) { return d.deviceId; }).indexOf(id);
      return i >= 0 ? i + 1 : deviceList.camera.length ? 1 : 0;
    }
    return api.CRVideo_GetAllVideoInfo(uid).length ? 1 : 0;
  };

  /** Chooses the user's camera by its videoID of CRVideo_GetAllVideoInfo (an open camera switches at once). */
  api.CRVideo_SetDefaultVideo = function (userID, videoID) {
    var uid = userID === undefined || userID === null || userID === '' ? selfID() : str(userID);
    if (uid !== selfID()) {
      warn('CRVideo_SetDefaultVideo: only the user\'s own camera can be chosen, not', uid);
      return;
    }
    var d = deviceList.camera[(Math.trunc(Number(videoID)) || 0) - 1];
    if (!d) {
      warn('CRVideo_SetDefaultVideo: no camera', videoID);
      return;
    }
    api.CRVideo_SetCamera(d.deviceId);
  };

  var ratios = [16 / 9, 4 / 3, 1]; // wh_rate 0, 1, 2

  // sizeOf reads a size: "1280*720" (or 1280x720), {width, height}, or a
  // height (360, 720, …) at the wh_rate's width.
  function sizeOf(v, whRate) {
    var m = typeof v === 'string' ? /^\s*(\d+)\s*[*xX×]\s*(\d+)\s*$/.exec(v) : null;
    if (m) return [Number(m[1]), Number(m[2])];
    if (v && typeof v === 'object' && Number(v.width) > 0 && Number(v.height) > 0) return [Math.round(Number(v.width)), Math.round(Number(v.height))];
    var h = Number(v);
    if (h >= 90 && h <= 4320) return [2 * Math.round(h * (ratios[whRate] || ratios[0]) / 2), Math.round(h)];
    if (v !== undefined && v !== null) warn('CRVideo_SetVideoCfg: size', v, 'not understood: give "width*height" or a height');
    return null;
  }

  /** The camera's settings: {size "W*H", width, height, fps, maxbps (0: the SDK's own), wh_rate}. */
  api.CRVideo_GetVideoCfg = function () {
    return {
      size: videoCfg.width + '*' + videoCfg.height, width: videoCfg.width, height: videoCfg.height,
      fps: videoCfg.fps, maxbps: videoCfg.maxbps, wh_rate: videoCfg.wh_rate
    };
  };

  /**
   * Sets the camera's size, frame rate and highest bitrate: applied at once
   * to an open camera's constraints and to its sender's encodings
   * (setParameters), and to every camera opened later.
   */
  api.CRVideo_SetVideoCfg = function (cfg) {
    var c = parsed(cfg);
    if (!c || typeof c !== 'object') return;
    if (c.wh_rate !== undefined && ratios[num(c.wh_rate)]) videoCfg.wh_rate = num(c.wh_rate);
    var size = c.size !== undefined ? sizeOf(c.size, videoCfg.wh_rate) : c.sizeType !== undefined ? sizeOf(c.sizeType, videoCfg.wh_rate) : null;
    if (size && size[0] > 0 && size[1] > 0) {
      videoCfg.width = size[0];
      videoCfg.height = size[1];
    }
    if (Number(c.fps) > 0) videoCfg.fps = Math.min(60, Math.max(1, Math.round(Number(c.fps))));
    var bps = c.maxbps !== undefined ? c.maxbps : c.maxBitrate;
    if (bps !== undefined) videoCfg.maxbps = Number(bps) > 0 ? Math.round(Number(bps)) : 0;
    applyVideoCfg();
  };

  function deviceNameOf(kind, id) {
    var i = deviceList[kind].map(function (d) { return d.deviceId; }).indexOf(id);
    return id && i >= 0 ? deviceNames(kind)[i] : '';
  }

  /** The microphone's settings: {micName, speakerName ("" the default), aec, ans, agc (1 on, 0 off)}. */
  api.CRVideo_GetAudioCfg = function () {
    return {
      micName: deviceNameOf('mic', chosen.mic), speakerName: deviceNameOf('speaker', str(media.speaker)),
      aec: audioCfg.aec, ans: audioCfg.ans, agc: audioCfg.agc, privEC: audioCfg.aec, privAgc: audioCfg.agc
    };
  };

  /**
   * Sets the microphone and speaker (by their names of GetAudioMicNames and
   * GetAudioSpkNames) and echo cancellation (aec, or privEC), noise
   * suppression (ans) and gain control (agc, or privAgc).
   */
  api.CRVideo_SetAudioCfg = function (cfg) {
    var c = parsed(cfg);
    if (!c || typeof c !== 'object') return;
    [['aec', 'privEC'], ['ans', 'ans'], ['agc', 'privAgc']].forEach(function (k) {
      var v = c[k[0]] !== undefined ? c[k[0]] : c[k[1]];
      if (v !== undefined) audioCfg[k[0]] = v ? 1 : 0;
    });
    if (c.micName !== undefined) {
      var mic = deviceByName('mic', c.micName);
      if (mic || !str(c.micName)) api.CRVideo_SetMic(mic ? mic.deviceId : '');
      else warn('CRVideo_SetAudioCfg: no microphone', c.micName);
    }
    if (c.speakerName !== undefined) {
      var spk = deviceByName('speaker', c.speakerName);
      if (spk || !str(c.speakerName)) api.CRVideo_SetSpeaker(spk ? spk.deviceId : '');
      else warn('CRVideo_SetAudioCfg: no speaker', c.speakerName);
    }
    applyAudioCfg();
  };

  /** The microphones' names (labels once the user allowed a device). */
  api.CRVideo_GetAudioMicNames = function () {
    return deviceNames('mic');
  };

  /** The speakers' names. */
  api.CRVideo_GetAudioSpkNames = function () {
    return deviceNames('speaker');
  };

  // ---------------------------------------------------------------------
  // Not implemented by crvnode: defined, failing through their callback
  // with CRVIDEOSDK_NOT_IMPLEMENTED, and warning once per name.

  var warned = {};

  function notImplemented(name) {
    if (warned[name]) return;
    warned[name] = true;
    warn(name + ' is not implemented by crvnode: it fails with CRVIDEOSDK_NOT_IMPLEMENTED (' + ERR.NOT_IMPLEMENTED + ')');
  }

  /** Server recording: not implemented; CreateCloudMixerFailed(mixerID, 8100) follows. */
  api.CRVideo_CreateCloudMixer = function () {
    notImplemented('CRVideo_CreateCloudMixer');
    var mixerID = uuid();
    later(function () { fire('CreateCloudMixerFailed', mixerID, ERR.NOT_IMPLEMENTED); });
    return mixerID;
  };

  /** Not implemented: returns 8100. */
  api.CRVideo_UpdateCloudMixerContent = function () {
    notImplemented('CRVideo_UpdateCloudMixerContent');
    return ERR.NOT_IMPLEMENTED;
  };

  /** Not implemented: returns 8100. */
  api.CRVideo_DestroyCloudMixer = function () {
    notImplemented('CRVideo_DestroyCloudMixer');
    return ERR.NOT_IMPLEMENTED;
  };

  /** Not implemented: no mixer, []. */
  api.CRVideo_GetAllCloudMixerInfo = function () {
    notImplemented('CRVideo_GetAllCloudMixerInfo');
    return [];
  };

  /** Not implemented: null. */
  api.CRVideo_GetCloudMixerInfo = function () {
    notImplemented('CRVideo_GetCloudMixerInfo');
    return null;
  };
