  // =====================================================================
  // sdk/media.js, part of crvideo.js (web/README.md), after queue.js: the
  // media layer. The up and down PeerConnections (the up one opened when
  // needed and closed when idle) and the local and remote tracks;
  // devices.js captures what they send, video.js shows them.

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
      dc: null,
      upSince: 0, // when the up connection was made
      upTimer: null // closes the up connection when idle (upActivity)
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

    // The up connection opens when first needed (needUp): entering a
    // meeting, publishing, sending data, or when the node asks (upNeeded,
    // for data that waits for this user). It closes again (closeUp) after
    // upIdleTimeout ms in no meeting, publishing nothing, with no transfer
    // under way, so that an idle user costs the node no PeerConnection.
    m.start = function (s) {
      m.s = s;
    };

    // needUp opens the up connection with its crv-data channel unless it
    // is open or opening (every need shares the one opening). It returns
    // the connection, or null where there can be none (logged out, no
    // WebRTC).
    m.needUp = function () {
      // A channel the node closed is reopened with a new connection,
      // unless that one carries media.
      if (m.up && m.dc && m.dc.readyState === 'closed' && !publishing()) closeUp();
      if (m.up) return m.up;
      var s = m.s;
      if (!s || typeof RTCPeerConnection === 'undefined') return null;
      var pc = new RTCPeerConnection(rtcConfig());
      m.up = pc;
      m.upSince = Date.now();
      m.upSent = false;
      m.upLocal = [];
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
      dc.addEventListener('open', function () { if (m.dc === dc) m.upActivity(); });
      m.dc = dc;
      ns._transfer.attach(dc);
      // Opened late in the session: the TURN credentials of the login may
      // be about to expire; renew them before the offer gathers candidates.
      m.upChain = m.upChain.then(function () {
        return freshICE(s);
      }).then(function () {
        if (m.up !== pc) return;
        try { pc.setConfiguration(rtcConfig()); } catch (e) { /* keep the login's servers */ }
      });
      m.negotiateUp().catch(function (e) {
        warn('up connection', e);
        // Not opened: what waits for it fails now, and the next need
        // opens a new one. A connection that carries media is kept.
        if (m.up === pc && !pc.remoteDescription && !publishing()) closeUp();
      });
      m.upActivity();
      return pc;
    };

    // publishing tells whether the user sends any source.
    function publishing() {
      return Object.keys(m.local).some(function (src) { return !!m.local[src].track; });
    }

    // upIdle tells whether the up connection is idle: no meeting, nothing
    // published, no transfer under way in either direction, and not still
    // opening (for at most 15 s: the data the node holds for the user
    // comes once it is open). A transfer layer that cannot tell (it has no
    // busy()) keeps the connection.
    function upIdle() {
      var t = ns._transfer;
      if (m.dc && m.dc.readyState === 'connecting' && Date.now() - m.upSince < 15000) return false;
      return !!(m.up && m.s && !m.s.meeting && !publishing() && t && typeof t.busy === 'function' && !t.busy());
    }

    // upIdleMs is the upIdleTimeout SDK parameter (CRVideo_Init,
    // CRVideo_SetSDKParams): 30 s by default, 0 or less never.
    function upIdleMs() {
      var v = sdkParams.upIdleTimeout;
      if (v === undefined || v === null || v === '') return 30000;
      v = Number(v);
      return isFinite(v) ? v : 30000;
    }

    // upActivity restarts the idle timer of the up connection: a meeting
    // left, a transfer begun or ended, the channel opened. When it runs
    // out while the connection is in use, it starts again.
    m.upActivity = function () {
      clearTimeout(m.upTimer);
      m.upTimer = null;
      var ms = upIdleMs();
      if (!m.up || !(ms > 0)) return;
      m.upTimer = setTimeout(function () {
        m.upTimer = null;
        if (upIdle()) closeUp();
        else m.upActivity();
      }, ms);
    };

    // closeUp closes the up connection and tells the node (upClose, whose
    // errors do not matter: a node without it keeps its side until the
    // session ends). The transfer layer is detached first: what is under
    // way fails with SENDFAIL (nothing, when idle). The next need opens a
    // new connection, its offer sent after upClose. A negotiation of the
    // closed connection may never settle (a closed RTCPeerConnection
    // leaves its pending promises so): the chain starts afresh.
    function closeUp() {
      var pc = m.up;
      if (!pc) return;
      clearTimeout(m.upTimer);
      m.upTimer = null;
      m.up = null;
      m.dc = null;
      m.upSent = false;
      m.upLocal = [];
      m.local = {}; // the transceivers were this connection's; nothing is published
      ns._transfer.detach();
      pc.close();
      m.upChain = rpc('upClose', {}).catch(function () { /* an older node: it keeps its side */ });
    }

    // restartFailed restarts, after a resumed session, a media connection
    // that went failed while the signaling was lost (resume.md): the up one
    // with an ICE restart offer, the down one by asking the node.
    m.restartFailed = function () {
      var up = m.up;
      if (up && up.connectionState === 'failed' && m.s) {
        freshICE(m.s).then(function () {
          if (m.up !== up) return;
          up.restartIce();
          return m.negotiateUp();
        }).catch(function (e) { warn('ICE restart', e); });
      }
      if (m.down && m.down.connectionState === 'failed') {
        rpc('restartDown').catch(function (e) { warn('down restart', e); });
      }
    };

    m.close = function () {
      ['mic', 'camera', 'screen'].forEach(function (src) { m.closeOwn(src); });
      m.closeDown();
      clearTimeout(m.upTimer);
      m.upTimer = null;
      ns._transfer.detach();
      if (m.up) m.up.close();
      m.upChain = Promise.resolve(); // what the closed connection left pending may never settle
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
      pc.onconnectionstatechange = function () {
        // failed while the signaling is up: the node restarts it (restartDown);
        // while it is down, restartFailed asks once the session is resumed
        if (pc.connectionState !== 'failed' || m.down !== pc || !conn) return;
        rpc('restartDown').catch(function (e) { warn('down restart', e); });
      };
      return pc;
    }

    // closeDown closes the down connection (the meeting left, logout).
    // What its chain still waits for may never settle (the operations of a
    // closed RTCPeerConnection do not): the next offer does not wait.
    m.closeDown = function () {
      dropDown();
      m.downChain = Promise.resolve();
    };

    // dropDown closes the down connection from within its chain.
    function dropDown() {
      if (m.down) m.down.close();
      if (m.downSess) {
        m.deadSess.push(m.downSess);
        if (m.deadSess.length > 16) m.deadSess.shift();
      }
      m.down = null;
      m.downSess = '';
      m.downInfo = {};
      syncRemote(null);
    }

    m.downOffer = function (o) {
      var s = m.s;
      if (!s) return;
      m.downChain = m.downChain.then(function () {
        if (m.s !== s) return;
        var id = sessionID(o.sdp);
        if (m.deadSess.indexOf(id) >= 0) return; // renegotiation of a connection left behind (the meeting was left)
        if (m.down && m.downSess !== id) dropDown();
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
            if (m.down === pc) dropDown(); // the node no longer has this connection
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

    // sender is the sender of a source published on the up connection.
    m.sender = function (source) {
      var l = m.local[source];
      return l && l.tr && m.up && m.up.getTransceivers().indexOf(l.tr) >= 0 ? l.tr.sender : null;
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
      var pc = m.needUp();
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
      var enc = source === 'camera' ? cameraEncodings(track) : null;
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
