  // =====================================================================
  // sdk/transfer.js, part of crvideo.js (web/README.md), after video.js:
  // SendCmd, SendBuffer, SendFile and CancelSend, and the transfer layer
  // behind them, which speaks the frames of datachannel/FORMAT.md on the
  // "crv-data" data channel: encoding and decoding, the sender and its
  // priorities, the receiver, credit, progress, cancel, and SHA-256.

  // ---------------------------------------------------------------------
  // Data transfers: SendCmd, SendBuffer, SendFile. They go through the
  // transfer layer at crvideo._transfer (the frames of
  // datachannel/FORMAT.md, below).

  function transfer(kind, target, data, cookie, fileName) {
    var taskID = uuid();
    var t = ns._transfer;
    var s = sess;
    function failed(code) {
      later(function () {
        if (kind === 'file') fire('SendFileRlst', taskID, fileName, code, cookie);
        else fire(kind === 'cmd' ? 'SendCmdRlst' : 'SendBufferRlst', taskID, code, cookie);
      });
      return taskID;
    }
    if (!s || !s.loggedIn) return failed(ERR.NOT_LOGIN);
    // The up connection carries the crv-data channel: open it if it is
    // not (the layer holds the task until the channel opens).
    if (!media.needUp()) return failed(ERR.SENDFAIL);
    media.upActivity();
    if (kind === 'cmd') t.sendCmd(taskID, str(target), data, cookie);
    else if (kind === 'buffer') t.sendBuffer(taskID, str(target), data, cookie);
    else t.sendFile(taskID, str(target), data, cookie);
    return taskID;
  }

  function fileNameOf(f) {
    return f && typeof f === 'object' && typeof f.name === 'string' ? f.name : str(f);
  }

  api.CRVideo_SendCmd = function (targetUserId, data, cookie) {
    return transfer('cmd', targetUserId, data, cookie);
  };

  api.CRVideo_SendBuffer = function (targetUserId, data, cookie) {
    return transfer('buffer', targetUserId, data, cookie);
  };

  /** file: a File or Blob (a page cannot open a file by its name). */
  api.CRVideo_SendFile = function (targetUserId, file, cookie) {
    return transfer('file', targetUserId, file, cookie, fileNameOf(file));
  };

  api.CRVideo_CancelSend = function (taskID, cookie) {
    ns._transfer.cancelSend(str(taskID), cookie);
  };

  // ---------------------------------------------------------------------
  // The transfer layer: frames of datachannel/FORMAT.md on "crv-data".

  ns._transfer = (function () {
    var T = { CMD: 1, OFFER: 2, CHUNK: 3, END: 4, CREDIT: 5, RESULT: 6, CANCEL: 7 };
    var CHUNK = 16384, WINDOW = 262144, HIGH = 262144, LOW = 65536, READ = 262144;
    var MAX_CMD = 65536, MAX_BUFFER = 64 * 1048576, MAX_FILE = 4 * 1073741824, PROGRESS_EVERY = 100;
    var MAX_ID = 64, MAX_PEER = 128, MAX_NAME = 1024, MAX_WINDOW = 16777216, MAX_TOTAL = 9007199254740991;
    var OPEN_WAIT = 15000; // a task sent before the channel is open waits this long for it
    var enc = typeof TextEncoder !== 'undefined' ? new TextEncoder() : null;
    var dec = typeof TextDecoder !== 'undefined' ? new TextDecoder() : null; // the data handed to the app
    var strict = typeof TextDecoder !== 'undefined' ? new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }) : null;

    var dc = null;
    var control = []; // frames sent before anything else
    var cmds = []; // {id, peer, data, cookie}
    var sends = []; // transfers being sent, round robin
    var waiting = {}; // id -> sender task waiting for its RESULT
    var recvs = {}; // id -> receiving task

    function utf8(s) {
      return enc.encode(s);
    }

    // validPeer accepts a user ID as frames carry it (and as signaling
    // accepts it): 1-128 bytes of UTF-8 without the control characters
    // U+0000-U+001F and U+007F-U+009F (Go's unicode.IsControl).
    var CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
    function validPeer(p) {
      var n = utf8(p).length;
      return n >= 1 && n <= MAX_PEER && !CONTROL.test(p) && (typeof p.isWellFormed !== 'function' || p.isWellFormed());
    }

    function bytes(data) {
      if (data instanceof Uint8Array) return data;
      if (data instanceof ArrayBuffer) return new Uint8Array(data);
      if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return utf8(typeof data === 'string' ? data : str(data));
    }

    // Frame encoding.
    function frame(type, id, body) {
      var idb = utf8(id);
      var out = new Uint8Array(2 + idb.length + body.length);
      out[0] = type;
      out[1] = idb.length;
      out.set(idb, 2);
      out.set(body, 2 + idb.length);
      return out;
    }

    function u64(n) {
      var b = new Uint8Array(8);
      var dv = new DataView(b.buffer);
      dv.setUint32(0, Math.floor(n / 4294967296));
      dv.setUint32(4, n >>> 0);
      return b;
    }

    function cat() {
      var n = 0, i;
      for (i = 0; i < arguments.length; i++) n += arguments[i].length;
      var out = new Uint8Array(n);
      n = 0;
      for (i = 0; i < arguments.length; i++) {
        out.set(arguments[i], n);
        n += arguments[i].length;
      }
      return out;
    }

    function peerBytes(peer) {
      var p = utf8(peer);
      return cat(new Uint8Array([p.length]), p);
    }

    function u16(n) {
      return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
    }

    var encode = {
      cmd: function (id, peer, data) { return frame(T.CMD, id, cat(peerBytes(peer), data)); },
      offer: function (id, kind, peer, total, name) {
        var nb = utf8(name);
        return frame(T.OFFER, id, cat(new Uint8Array([kind]), peerBytes(peer), u64(total), u16(nb.length), nb));
      },
      chunk: function (id, offset, data) { return frame(T.CHUNK, id, cat(u64(offset), data)); },
      end: function (id, sha) { return frame(T.END, id, sha); },
      credit: function (id, taken, win) {
        var w = new Uint8Array(4);
        new DataView(w.buffer).setUint32(0, win);
        return frame(T.CREDIT, id, cat(u64(taken), w));
      },
      result: function (id, code) { return frame(T.RESULT, id, u16(code)); },
      cancel: function (id, by, code) { return frame(T.CANCEL, id, cat(new Uint8Array([by]), u16(code))); }
    };

    // decode returns the frame's fields, or null if it is malformed: it
    // refuses what the Go decoder (datachannel/frame.go) refuses, and
    // e2e/browser_sdk_frames_test.go holds both to the same golden frames.
    function decode(buf) {
      var b = new Uint8Array(buf);
      var dv = new DataView(buf);
      if (b.length < 3) return null;
      var type = b[0], idLen = b[1];
      if (type < 1 || type > 7 || idLen < 1 || idLen > MAX_ID || b.length < 2 + idLen) return null;
      var id = '';
      for (var i = 0; i < idLen; i++) {
        var c = b[2 + i];
        if (!(c >= 48 && c <= 57 || c >= 65 && c <= 90 || c >= 97 && c <= 122 || c === 46 || c === 95 || c === 45)) return null;
        id += String.fromCharCode(c);
      }
      var o = 2 + idLen;
      var f = { type: type, id: id };
      function need(n) { return b.length >= o + n; }
      function rd64() {
        var hi = dv.getUint32(o), lo = dv.getUint32(o + 4);
        o += 8;
        return hi >= 2097152 ? -1 : hi * 4294967296 + lo; // -1: past MAX_TOTAL
      }
      function peer() {
        if (!need(1)) return null;
        var n = b[o];
        if (n < 1 || n > MAX_PEER || !need(1 + n)) return null;
        var p = text(b.subarray(o + 1, o + 1 + n));
        o += 1 + n;
        return p !== null && validPeer(p) ? p : null;
      }
      switch (type) {
        case T.CMD:
          if ((f.peer = peer()) === null) return null;
          f.data = b.subarray(o);
          return f.data.length <= MAX_CMD ? f : null;
        case T.OFFER:
          if (!need(1)) return null;
          f.kind = b[o++];
          if (f.kind !== 2 && f.kind !== 3) return null;
          if ((f.peer = peer()) === null || !need(10)) return null;
          f.total = rd64();
          var nl = dv.getUint16(o);
          o += 2;
          if (f.total < 0 || b.length !== o + nl || (f.kind === 3) !== (nl > 0) || nl > MAX_NAME) return null;
          f.name = text(b.subarray(o));
          return f.name === null ? null : f;
        case T.CHUNK:
          if (!need(9)) return null;
          f.offset = rd64();
          f.data = b.subarray(o);
          if (f.offset < 0 || f.data.length > CHUNK || f.offset > MAX_TOTAL - f.data.length) return null;
          return f;
        case T.END:
          if (b.length !== o + 32) return null;
          f.sha = b.subarray(o);
          return f;
        case T.CREDIT:
          if (b.length !== o + 12) return null;
          f.taken = rd64();
          f.window = dv.getUint32(o);
          return f.taken < 0 || f.window > MAX_WINDOW ? null : f;
        case T.RESULT:
          if (b.length !== o + 2) return null;
          f.code = dv.getUint16(o);
          return f;
        case T.CANCEL:
          if (b.length !== o + 3) return null;
          f.by = b[o];
          f.code = dv.getUint16(o + 1);
          return f.by === 1 || f.by === 2 ? f : null;
      }
      return null;
    }

    // text decodes UTF-8 strictly, as FORMAT.md's strings are: null for
    // bytes that are not UTF-8; a leading U+FEFF is a character, not a
    // byte order mark to drop.
    function text(bytes) {
      try {
        return strict.decode(bytes);
      } catch (e) {
        return null;
      }
    }

    // ---- sending

    function open() {
      return dc && dc.readyState === 'open';
    }

    function pump() {
      if (!open()) return;
      try {
        while (control.length) dc.send(control.shift());
        for (;;) {
          if (dc.bufferedAmount > HIGH) return; // bufferedamountlow resumes
          if (cmds.length) {
            var c = cmds.shift();
            waiting[c.id] = c;
            dc.send(encode.cmd(c.id, c.peer, c.data));
            continue;
          }
          if (!nextTransferFrame()) return;
        }
      } catch (e) {
        warn('data channel send', e);
      }
    }

    // nextTransferFrame sends one frame of the next transfer that has one
    // ready (round robin); it reports whether it sent anything.
    function nextTransferFrame() {
      for (var i = 0; i < sends.length; i++) {
        var t = sends.shift();
        sends.push(t);
        var f = transferFrame(t);
        if (f) {
          dc.send(f);
          return true;
        }
      }
      return false;
    }

    function transferFrame(t) {
      if (!t.offered) {
        t.offered = true;
        return encode.offer(t.id, t.kind, t.peer, t.total, t.name);
      }
      if (!t.accepted) return null; // nothing but the OFFER until the first CREDIT
      if (t.sent < t.total) {
        if (t.sent >= t.limit) return null;
        if (t.bufEnd - t.sent <= 0) readMore(t);
        var avail = t.bufEnd - t.sent;
        if (avail <= 0) return null; // a read is under way: it pumps when done
        var n = Math.min(CHUNK, avail, t.limit - t.sent);
        var data = t.buf.subarray(t.sent - t.bufStart, t.sent - t.bufStart + n);
        var f = encode.chunk(t.id, t.sent, data);
        t.hash.update(data);
        t.sent += n;
        if (t.bufEnd - t.sent <= 0 && t.sent < t.total) readMore(t); // read ahead
        return f;
      }
      // All sent: END, then the RESULT is awaited.
      removeSend(t);
      waiting[t.id] = t;
      return encode.end(t.id, t.hash.digest());
    }

    function readMore(t) {
      if (t.reading || t.bufEnd >= t.total) return;
      if (t.bytes) {
        t.buf = t.bytes;
        t.bufStart = 0;
        t.bufEnd = t.total;
        return;
      }
      t.reading = true;
      var start = t.bufEnd, end = Math.min(t.total, start + READ);
      t.blob.slice(start, end).arrayBuffer().then(function (ab) {
        t.reading = false;
        if (t.done) return;
        t.buf = new Uint8Array(ab);
        t.bufStart = start;
        t.bufEnd = start + ab.byteLength;
        pump();
      }, function () {
        t.reading = false;
        if (t.done) return;
        finishSend(t);
        control.push(encode.cancel(t.id, 1, ERR.FILE_READ_ERR));
        fireResult(t, ERR.FILE_READ_ERR);
        pump();
      });
    }

    function removeSend(t) {
      var i = sends.indexOf(t);
      if (i >= 0) sends.splice(i, 1);
    }

    function finishSend(t) {
      t.done = true;
      removeSend(t);
      delete waiting[t.id];
    }

    function fireResult(t, code) {
      later(ended);
      if (t.kind === 1) fire('SendCmdRlst', t.id, code, t.cookie);
      else if (t.kind === 2) fire('SendBufferRlst', t.id, code, t.cookie);
      else fire('SendFileRlst', t.id, t.name, code, t.cookie);
    }

    function failLater(t, code) {
      later(function () { fireResult(t, code); });
    }

    // ended: a transfer ended; the up connection's idle timer restarts.
    function ended() {
      media.upActivity();
    }

    // waitOpen holds a task sent before the channel is open (the up
    // connection is opening): it goes when the channel opens, and fails
    // with SENDFAIL if it has not within OPEN_WAIT. A channel that closes
    // fails it at once (fail).
    function waitOpen(t) {
      if (open()) return;
      setTimeout(function () {
        if (t.done || open()) return;
        var i = cmds.indexOf(t);
        if (i >= 0) cmds.splice(i, 1);
        else if (t.offered || sends.indexOf(t) < 0) return; // on its way
        t.done = true;
        removeSend(t);
        fireResult(t, ERR.SENDFAIL);
      }, OPEN_WAIT);
    }

    function startTransfer(t) {
      t.offered = false;
      t.accepted = false;
      t.sent = 0;
      t.limit = 0;
      t.taken = 0;
      t.buf = new Uint8Array(0);
      t.bufStart = 0;
      t.bufEnd = 0;
      t.hash = sha256();
      sends.push(t);
      waitOpen(t);
      pump();
    }

    // ---- receiving

    function onFrame(buf) {
      var f = decode(buf);
      if (!f) return;
      var t;
      switch (f.type) {
        case T.CMD:
          control.push(encode.result(f.id, 0));
          pump();
          later(ended);
          fire('NotifyCmdData', f.peer, dec.decode(f.data));
          return;
        case T.OFFER:
          onOffer(f);
          return;
        case T.CHUNK:
          onChunk(f);
          return;
        case T.END:
          onEnd(f);
          return;
        case T.CANCEL:
          if (recvs[f.id]) {
            delete recvs[f.id];
            later(ended);
            fire('NotifyCancelSend', f.id);
          }
          return;
        case T.CREDIT:
          t = findSend(f.id);
          if (!t) return;
          t.accepted = true;
          t.limit = Math.max(t.limit, f.taken + f.window);
          if (f.taken > t.taken && f.taken <= t.sent) {
            t.taken = f.taken;
            var now = Date.now();
            if (t.taken === t.total || now - (t.progressAt || 0) >= PROGRESS_EVERY) {
              t.progressAt = now; // at most every PROGRESS_EVERY ms, and always at the end
              fire('SendProgress', t.id, t.taken, t.total, t.cookie);
            }
          }
          pump();
          return;
        case T.RESULT:
          t = findSend(f.id);
          if (!t) return;
          finishSend(t);
          fireResult(t, f.code);
          pump();
          return;
      }
    }

    function findSend(id) {
      if (waiting[id]) return waiting[id];
      for (var i = 0; i < sends.length; i++) if (sends[i].id === id) return sends[i];
      return null;
    }

    function onOffer(f) {
      if (recvs[f.id]) return; // a second OFFER for a task in use is ignored
      var limit = f.kind === 2 ? MAX_BUFFER : MAX_FILE;
      if (f.total > limit) {
        control.push(encode.result(f.id, f.kind === 2 ? ERR.SENDBUFFER_LARGE : ERR.FILE_SIZE_UNSUPPORT));
        pump();
        return;
      }
      recvs[f.id] = { id: f.id, kind: f.kind, peer: f.peer, total: f.total, name: f.name, parts: [], taken: 0, credited: 0, hash: sha256() };
      control.push(encode.credit(f.id, 0, WINDOW));
      pump();
    }

    function onChunk(f) {
      var r = recvs[f.id];
      if (!r) return;
      if (f.offset !== r.taken || r.taken + f.data.length > r.total) {
        delete recvs[f.id];
        later(ended);
        control.push(encode.result(f.id, ERR.SENDFAIL));
        pump();
        return;
      }
      r.parts.push(f.data.slice());
      r.hash.update(f.data);
      r.taken += f.data.length;
      if (r.taken - r.credited >= WINDOW / 4 || r.taken === r.total) {
        r.credited = r.taken;
        control.push(encode.credit(r.id, r.taken, WINDOW));
        pump();
      }
    }

    function onEnd(f) {
      var r = recvs[f.id];
      if (!r) return;
      delete recvs[f.id];
      later(ended);
      var sum = r.hash.digest();
      var ok = r.taken === r.total;
      for (var i = 0; ok && i < 32; i++) ok = sum[i] === f.sha[i];
      if (r.taken === r.total && r.credited !== r.taken) control.push(encode.credit(r.id, r.taken, WINDOW));
      control.push(encode.result(r.id, ok ? 0 : ERR.SENDFAIL));
      pump();
      if (!ok) return;
      if (r.kind === 2) {
        var all = new Uint8Array(r.total), o = 0;
        r.parts.forEach(function (p) { all.set(p, o); o += p.length; });
        fire('NotifyBufferData', r.peer, dec.decode(all));
      } else {
        var url = URL.createObjectURL(new Blob(r.parts));
        fire('NotifyFileData', r.peer, url, r.name);
      }
    }

    function fail(code) {
      var all = sends.concat(Object.keys(waiting).map(function (k) { return waiting[k]; })).concat(cmds);
      sends = [];
      waiting = {};
      cmds = [];
      control = [];
      all.forEach(function (t) { t.done = true; failLater(t, code); });
      var rs = Object.keys(recvs);
      recvs = {};
      rs.forEach(function (id) { later(function () { fire('NotifyCancelSend', id); }); });
    }

    return {
      // Internal, for e2e/browser_sdk_frames_test.go only (web/README.md):
      // the frame codec, held there to the Go codec's golden frames.
      _encode: encode,
      _decode: decode,
      attach: function (channel) {
        dc = channel;
        dc.binaryType = 'arraybuffer';
        dc.bufferedAmountLowThreshold = LOW;
        dc.onbufferedamountlow = pump;
        dc.onopen = pump;
        dc.onmessage = function (e) {
          if (e.data instanceof ArrayBuffer) onFrame(e.data);
        };
        dc.onclose = function () {
          if (dc === channel) fail(ERR.SENDFAIL);
        };
      },
      detach: function () {
        var d = dc;
        dc = null;
        if (d) {
          d.onmessage = d.onclose = d.onbufferedamountlow = d.onopen = null;
          try { d.close(); } catch (e) { /* closed */ }
        }
        fail(ERR.SENDFAIL);
      },
      // busy: a transfer is under way either way (queued, awaiting its
      // result, being received); the up connection stays open meanwhile.
      busy: function () {
        return cmds.length > 0 || sends.length > 0 || control.length > 0 ||
          Object.keys(waiting).length > 0 || Object.keys(recvs).length > 0;
      },
      sendCmd: function (id, peer, data, cookie) {
        var t = { kind: 1, id: id, peer: peer, data: bytes(data), cookie: cookie };
        if (t.data.length > MAX_CMD) return failLater(t, ERR.SENDCMD_LARGE);
        if (!validPeer(peer)) return failLater(t, ERR.SENDDATA_TARGETINVALID);
        cmds.push(t);
        waitOpen(t);
        pump();
      },
      sendBuffer: function (id, peer, data, cookie) {
        var b = bytes(data);
        var t = { kind: 2, id: id, peer: peer, bytes: b, total: b.length, name: '', cookie: cookie };
        if (!validPeer(peer)) return failLater(t, ERR.SENDDATA_TARGETINVALID);
        startTransfer(t);
      },
      sendFile: function (id, peer, file, cookie) {
        var name = fileNameOf(file);
        var t = { kind: 3, id: id, peer: peer, name: name, cookie: cookie };
        if (typeof Blob === 'undefined' || !(file instanceof Blob)) return failLater(t, ERR.FILE_NOT_EXIST);
        if (!validPeer(peer)) return failLater(t, ERR.SENDDATA_TARGETINVALID);
        t.blob = file;
        t.total = file.size;
        t.name = baseName(name);
        startTransfer(t);
      },
      cancelSend: function (id, cookie) {
        var t = findSend(id);
        // A task in waiting has sent its END: the receiver may hold it
        // already, so it cannot be cancelled; its result follows.
        if (!t || t.kind === 1 || waiting[id]) {
          later(function () { fire('CancelSendRlst', id, ERR.TRANSID_INVALID, cookie); });
          return;
        }
        finishSend(t);
        if (t.offered) control.push(encode.cancel(id, 1, 0)); // the node never heard of one still waiting for the channel
        pump();
        later(ended);
        later(function () { fire('CancelSendRlst', id, ERR.NOERR, cookie); });
      }
    };

    // baseName keeps a file name within the 1-1024 bytes the frame allows.
    function baseName(name) {
      name = str(name).replace(/^.*[\\/]/, '') || 'file';
      while (utf8(name).length > 1024) name = name.slice(0, -1);
      return name;
    }
  })();
