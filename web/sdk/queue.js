  // =====================================================================
  // sdk/queue.js, part of crvideo.js (web/README.md), after calls.js: the
  // queue component (CloudroomQueue). Customers queue, agents serve
  // queues, the node assigns waiting customers to free agents; an agent
  // then calls its customer with CRVideo_Call.
  //
  // CRVideo_GetAllQueueInfo, GetQueuingInfo, GetServingQueues and
  // GetSessionInfo answer at once, from what the SDK keeps: the result of
  // initQueueDat, kept current by the results of the calls below and by
  // the node's queue events (events.js).

  [
    'InitQueueDatRslt', 'GetQueueStatusRslt', 'StartQueuingRslt', 'StopQueuingRslt',
    'StartServiceRslt', 'StopServiceRslt', 'ReqAssignUserRslt', 'ResponseAssignUserRslt',
    'AutoAssignUser', 'CancelAssignUser', 'QueueStatusChanged', 'QueuingInfoChanged'
  ].forEach(function (n) { defCallback(n); });

  function newQueueState() {
    return {
      inited: false,
      queues: [], // [QueueInfo], as the node lists them
      statuses: new Map(), // queID -> QueStatus
      queuing: null, // {queID, position, queuingTime, at}: at is when queuingTime was true
      serving: [], // queIDs
      assigned: new Map() // userID -> QueUser the node assigned to this agent
    };
  }

  function num(v) {
    var n = Math.trunc(Number(v));
    return isFinite(n) ? n : 0;
  }

  function queueInfoOf(q) {
    return { queID: num(q && q.queID), name: str(q && q.name), desc: str(q && q.desc), prio: num(q && q.prio) };
  }

  function queStatusOf(st) {
    return {
      queID: num(st && st.queID), agent_num: num(st && st.agent_num),
      wait_num: num(st && st.wait_num), srv_num: num(st && st.srv_num)
    };
  }

  function queUserOf(u) {
    return {
      queID: num(u && u.queID), userID: str(u && u.userID), nickname: str(u && (u.nickname !== undefined ? u.nickname : u.nickName)),
      queuingTime: num(u && u.queuingTime), usrExtDat: str(u && u.usrExtDat)
    };
  }

  function queueState() {
    return sess ? sess.queue : null;
  }

  // setQueuing keeps the user's place in a queue; queID 0 is none.
  function setQueuing(q, info) {
    var i = info || {};
    q.queuing = num(i.queID) > 0 ? { queID: num(i.queID), position: num(i.position), queuingTime: num(i.queuingTime), at: Date.now() } : null;
  }

  function setStatus(q, st) {
    var s = queStatusOf(st);
    if (s.queID > 0) q.statuses.set(s.queID, s);
    return s;
  }

  // loadQueueDat takes the result of initQueueDat.
  function loadQueueDat(q, res) {
    q.inited = true;
    q.queues = (res.queues || []).map(queueInfoOf);
    q.statuses = new Map();
    (res.statuses || []).forEach(function (st) { setStatus(q, st); });
    setQueuing(q, res.queuing);
    q.serving = (res.serving || []).map(num).filter(function (id) { return id > 0; });
  }

  api.CRVideo_InitQueueDat = function (cookie) {
    var q = queueState();
    call('initQueueDat', {}, function (res) {
      if (queueState() === q) loadQueueDat(q, res);
      fire('InitQueueDatRslt', ERR.NOERR, cookie);
    }, function (code) { fire('InitQueueDatRslt', code, cookie); });
  };

  /** The queues of the app ([QueueInfo]), after CRVideo_InitQueueDat. */
  api.CRVideo_GetAllQueueInfo = function () {
    var q = queueState();
    return q ? q.queues.map(queueInfoOf) : [];
  };

  /** Asks the node for every queue's status: CRVideo_QueueStatusChanged follows for each. */
  api.CRVideo_RefreshAllQueueStatus = function () {
    var q = queueState();
    call('refreshAllQueueStatus', {}, function (res) {
      (res.statuses || []).forEach(function (st) {
        var s = queueState() === q ? setStatus(q, st) : queStatusOf(st);
        fire('QueueStatusChanged', s);
      });
    }, function (code) { warn('CRVideo_RefreshAllQueueStatus failed', code); });
  };

  /**
   * Asks the node for one queue's status: CRVideo_GetQueueStatusRslt. As
   * older SDKs did, it also returns the status last known (zeros if none).
   */
  api.CRVideo_GetQueueStatus = function (queID, cookie) {
    var q = queueState();
    var id = num(queID);
    call('getQueueStatus', { queID: id }, function (res) {
      var s = queueState() === q ? setStatus(q, res) : queStatusOf(res);
      fire('GetQueueStatusRslt', s, ERR.NOERR, cookie);
    }, function (code) { fire('GetQueueStatusRslt', queStatusOf({ queID: id }), code, cookie); });
    var known = q && q.statuses.get(id);
    return known ? queStatusOf(known) : queStatusOf({ queID: id });
  };

  /** The user's place in a queue (QueuingInfo); queID 0 and position 0 when not queuing. */
  api.CRVideo_GetQueuingInfo = function () {
    var q = queueState();
    var w = q && q.queuing;
    if (!w) return { queID: 0, position: 0, queuingTime: 0 };
    return { queID: w.queID, position: w.position, queuingTime: w.queuingTime + Math.floor((Date.now() - w.at) / 1000) };
  };

  /** The queIDs the user serves as an agent. */
  api.CRVideo_GetServingQueues = function () {
    var q = queueState();
    return q ? q.serving.slice() : [];
  };

  /**
   * Starts queuing: StartQueuing(queID, usrExtDat, cookie), or the older
   * StartQueuing(queID, cookie). Result: CRVideo_StartQueuingRslt; the
   * place in the queue is known (CRVideo_GetQueuingInfo) when it comes.
   */
  api.CRVideo_StartQueuing = function (queID, usrExtDat, cookie) {
    if (arguments.length === 2) return startQueuing(queID, '', usrExtDat);
    return startQueuing(queID, usrExtDat, cookie);
  };

  api.CRVideo_StartQueuing2 = function (queID, usrExtDat, cookie) {
    return startQueuing(queID, usrExtDat, cookie);
  };

  function startQueuing(queID, usrExtDat, cookie) {
    var q = queueState();
    var p = { queID: num(queID) };
    if (str(usrExtDat)) p.usrExtDat = str(usrExtDat);
    call('startQueuing', p, function () {
      if (queueState() === q && !q.queuing) setQueuing(q, { queID: p.queID, position: 0 });
      // The place in the queue: what initQueueDat says now.
      rpc('initQueueDat', {}).then(function (res) {
        if (queueState() === q) setQueuing(q, res.queuing);
      }, function () { /* the place follows with queuingInfoChanged */ }).then(function () {
        fire('StartQueuingRslt', ERR.NOERR, cookie);
      });
    }, function (code) { fire('StartQueuingRslt', code, cookie); });
  }

  api.CRVideo_StopQueuing = function (cookie) {
    var q = queueState();
    call('stopQueuing', {}, function () {
      if (queueState() === q) q.queuing = null;
      fire('StopQueuingRslt', ERR.NOERR, cookie);
    }, function (code) { fire('StopQueuingRslt', code, cookie); });
  };

  /**
   * Serves a queue as an agent: StartService(queID, priority, cookie)
   * (priority 0-1000, 0 highest), or the older StartService(queID, cookie).
   */
  api.CRVideo_StartService = function (queID, priority, cookie) {
    if (arguments.length === 2 && typeof priority !== 'number') return startService(queID, undefined, priority);
    return startService(queID, priority, cookie);
  };

  api.CRVideo_StartService2 = function (queID, priority, cookie) {
    return startService(queID, priority, cookie);
  };

  function startService(queID, priority, cookie) {
    var q = queueState();
    var id = num(queID);
    var p = { queID: id };
    if (priority !== undefined && priority !== null && priority !== '') p.priority = num(priority);
    call('startService', p, function () {
      if (queueState() === q && q.serving.indexOf(id) < 0) q.serving.push(id);
      fire('StartServiceRslt', id, ERR.NOERR, cookie);
    }, function (code) { fire('StartServiceRslt', id, code, cookie); });
  }

  api.CRVideo_StopService = function (queID, cookie) {
    var q = queueState();
    var id = num(queID);
    call('stopService', { queID: id }, function () {
      if (queueState() === q) q.serving = q.serving.filter(function (x) { return x !== id; });
      fire('StopServiceRslt', id, ERR.NOERR, cookie);
    }, function (code) { fire('StopServiceRslt', id, code, cookie); });
  };

  /** Asks for the next customer (agents with do-not-disturb on): CRVideo_ReqAssignUserRslt. */
  api.CRVideo_ReqAssignUser = function (cookie) {
    var q = queueState();
    call('reqAssignUser', {}, function (res) {
      var u = queUserOf(res);
      if (queueState() === q) q.assigned.set(u.userID, u);
      fire('ReqAssignUserRslt', ERR.NOERR, u, cookie);
    }, function (code) { fire('ReqAssignUserRslt', code, null, cookie); });
  };

  function respondAssign(accept, queID, userID, cookie) {
    var method = accept ? 'acceptAssignUser' : 'rejectAssignUser';
    var q = queueState();
    var uid = str(userID);
    call(method, { queID: num(queID), userID: uid }, function () {
      if (queueState() === q && !accept) q.assigned.delete(uid);
      fire('ResponseAssignUserRslt', ERR.NOERR, cookie);
    }, function (code) {
      if (queueState() === q) q.assigned.delete(uid);
      fire('ResponseAssignUserRslt', code, cookie);
    });
  }

  /** Takes the customer assigned (then call it with CRVideo_Call): CRVideo_ResponseAssignUserRslt. */
  api.CRVideo_AcceptAssignUser = function (queID, userID, cookie) {
    respondAssign(true, queID, userID, cookie);
  };

  /** Gives the customer assigned back to its queue: CRVideo_ResponseAssignUserRslt. */
  api.CRVideo_RejectAssignUser = function (queID, userID, cookie) {
    respondAssign(false, queID, userID, cookie);
  };

  // queueEvent handles the node's queue events (events.js dispatches).
  var queueEvent = {
    autoAssign: function (p) {
      var q = queueState();
      var u = queUserOf(p);
      if (q) q.assigned.set(u.userID, u);
      fire('AutoAssignUser', u);
    },
    cancelAssign: function (p) {
      var q = queueState();
      if (q) q.assigned.delete(str(p.userID));
      fire('CancelAssignUser', num(p.queID), str(p.userID));
    },
    status: function (p) {
      var q = queueState();
      fire('QueueStatusChanged', q ? setStatus(q, p) : queStatusOf(p));
    },
    queuing: function (p) {
      var q = queueState();
      if (q) setQueuing(q, p);
      fire('QueuingInfoChanged', { queID: num(p.queID), position: num(p.position), queuingTime: num(p.queuingTime) });
    }
  };

  // assignedName is the nickname of a customer the node assigned to this
  // agent, for SessionInfo's peerName.
  function assignedName(userID) {
    var q = queueState();
    var u = q && q.assigned.get(str(userID));
    return u ? u.nickname : '';
  }
