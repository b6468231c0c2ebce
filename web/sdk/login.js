  // =====================================================================
  // sdk/login.js, part of crvideo.js (web/README.md), after core.js: the
  // session (login, logout, its state), the server address, and presence
  // (do-not-disturb, user status).

  // ---------------------------------------------------------------------
  // Session: login, logout, state.

  function newSession() {
    return {
      loggedIn: false, loggingOut: false, lineOff: false,
      userID: '', nickName: '', appID: '', iceServers: [],
      statusCookie: '',
      // resume (docs/protocol/resume.md): the session's current token, its
      // grace window, and the highest seq received from the node
      resumeToken: '', resumeGraceMs: 0, lastSeq: 0,
      meeting: null, // {meetObj, members: Map, screens: Set}
      queue: newQueueState() // what the queue component knows, see queue.js
    };
  }

  function endSession() {
    var s = sess;
    if (!s) return;
    sess = null;
    leaveMeetingLocal(s);
    media.close();
  }

  function login(method, params, cookie) {
    if (!inited) {
      later(function () { fire('LoginFail', ERR.NOT_INIT, cookie); });
      return;
    }
    if (sess) {
      later(function () { fire('LoginFail', ERR.ALREADYLOGIN, cookie); });
      return;
    }
    var s = newSession();
    sess = s;
    connect().then(function () {
      if (sess !== s) throw rpcError(ERR.LOGINSTATE_ERROR, 'logged out meanwhile');
      return rpc(method, params);
    }).then(function (res) {
      if (sess !== s) return;
      s.loggedIn = true;
      s.userID = str(res.userID);
      s.nickName = str(res.nickName);
      s.appID = str(res.appID);
      s.iceServers = Array.isArray(res.iceServers) ? res.iceServers : [];
      s.resumeToken = str(res.resumeToken);
      s.resumeGraceMs = typeof res.resumeGraceMs === 'number' ? res.resumeGraceMs : 0;
      fire('LoginSuccess', s.userID, cookie);
      if (sess === s) media.start(s); // unless the callback logged out
    }, function (err) {
      if (sess === s) {
        sess = null;
        closeSocket(conn);
      }
      fire('LoginFail', codeOf(err), cookie);
    });
  }

  api.CRVideo_Uninit = function () {
    api.CRVideo_Logout();
    inited = false;
  };

  api.CRVideo_SetServerAddr = function (addr) {
    serverAddr = str(addr).trim();
  };

  api.CRVideo_GetServerAddr = function () {
    return serverAddr || pageHost();
  };

  /** appSecret must be the MD5 (hex) of the app's secret, as for the vendor SDK. */
  api.CRVideo_Login = function (appID, appSecret, nickName, userID, userAuthCode, cookie) {
    login('login', {
      appID: str(appID), appSecret: str(appSecret), nickName: str(nickName),
      userID: str(userID), userAuthCode: str(userAuthCode)
    }, cookie);
  };

  api.CRVideo_LoginByToken = function (token, nickName, userID, userAuthCode, cookie) {
    var p = { token: str(token), nickName: str(nickName) };
    if (str(userID)) p.userID = str(userID);
    if (str(userAuthCode)) p.userAuthCode = str(userAuthCode);
    login('loginByToken', p, cookie);
  };

  api.CRVideo_Logout = function () {
    var s = sess;
    var c = conn;
    lastCall = null; // the app is done with its call (calls.js)
    if (!s) return;
    s.loggingOut = true;
    endSession();
    if (c) {
      if (s.loggedIn) notify('logout', {});
      closeSocket(c);
    }
  };

  api.CRVideo_SetDNDStatus = function (DNDStatus, cookie) {
    call('setDNDStatus', { DNDStatus: Math.trunc(Number(DNDStatus)) || 0 },
      function () { fire('SetDNDStatusSuccess', cookie); },
      function (code) { fire('SetDNDStatusFail', code, cookie); });
  };

  api.CRVideo_GetUserStatus = function (cookie) {
    call('getUserStatus', null,
      function (res) { fire('GetUserStatusSuccess', res.userStatus || [], cookie); },
      function (code) { fire('GetUserStatusFail', code, cookie); });
  };

  api.CRVideo_StartUserStatusNotify = function (cookie) {
    var s = sess;
    call('startUserStatusNotify', null,
      function () {
        if (s) s.statusCookie = cookie;
        fire('StartUserStatusNotifyRslt', ERR.NOERR, cookie);
      },
      function (code) { fire('StartUserStatusNotifyRslt', code, cookie); });
  };

  api.CRVideo_StopUserStatusNotify = function (cookie) {
    call('stopUserStatusNotify', null,
      function () { fire('StopUserStatusNotifyRslt', ERR.NOERR, cookie); },
      function (code) { fire('StopUserStatusNotifyRslt', code, cookie); });
  };
