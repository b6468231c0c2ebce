// crvnode meetings: a demo web app built on the CRVideo API of crvideo.js
// (the public SDK functions and callbacks only).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  const ST_OPEN = 3;
  const ST_OPENING = 4;

  const state = {
    me: null, // {userID, nickName}
    users: new Map(), // userID -> {userStatus, DNDType}
    meetings: [],
    meeting: null, // MeetInfoObj of the meeting we are in
    entering: null, // meetObj being entered
    call: null, // {callID, peer, meetObj, role: 'caller'|'callee', connected}
    incoming: null, // {callID, meetObj, callerID}
    invites: new Map(), // inviteID -> userID
    tiles: new Map(), // "userID/videoID" -> {root, vobj}
    transfers: new Map(), // taskID -> {row, bar, info, cancel}
    unread: 0,
    sharing: false,
    desk: { // the service desk, see deskReset
      mode: 'team', role: 'customer', titles: new Map(), // meetID -> the title of a meeting made for a customer
      inited: false, error: 0, queues: [], statuses: new Map(), serving: new Set(), queuing: null,
      taken: null, assign: null, accepting: null, timer: 0,
    },
  };
  const desk = state.desk;

  // ------------------------------------------------------------------
  // MD5 (RFC 1321) of a UTF-8 string, as hex: the SDK takes md5(appSecret).

  function md5(text) {
    const data = new TextEncoder().encode(text);
    const n = ((data.length + 8) >>> 6) + 1;
    const words = new Uint32Array(n * 16);
    for (let i = 0; i < data.length; i++) words[i >> 2] |= data[i] << ((i % 4) * 8);
    words[data.length >> 2] |= 0x80 << ((data.length % 4) * 8);
    words[n * 16 - 2] = data.length * 8;
    words[n * 16 - 1] = Math.floor(data.length / 0x20000000);
    const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    const K = new Uint32Array(64);
    for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296);
    let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
    for (let blk = 0; blk < words.length; blk += 16) {
      let a = a0, b = b0, c = c0, d = d0;
      for (let i = 0; i < 64; i++) {
        let f, g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        const s = S[(i >> 4) * 4 + (i % 4)];
        const x = (a + f + K[i] + words[blk + g]) | 0;
        a = d; d = c; c = b;
        b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
      }
      a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + d) | 0;
    }
    return [a0, b0, c0, d0].map((w) => {
      let h = '';
      for (let i = 0; i < 4; i++) h += ((w >>> (i * 8)) & 0xff).toString(16).padStart(2, '0');
      return h;
    }).join('');
  }

  // ------------------------------------------------------------------
  // Helpers.

  const messages = {
    5: 'Invalid value', 7: 'Wrong app ID or secret', 8: 'The server is busy, try again', 10: 'You signed in somewhere else',
    12: 'You are not signed in', 20: 'Unknown app ID', 23: 'Only the meeting\'s creator may do that',
    202: 'The server did not answer', 203: 'Cannot reach the server', 206: 'The server is shutting down',
    207: 'Connection lost', 600: 'That call has ended', 601: 'You are already in a call', 602: 'Busy or do not disturb',
    603: 'Offline', 604: 'No answer', 605: 'No such user', 606: 'Declined', 800: 'The meeting does not exist',
    801: 'Wrong meeting password', 802: 'The meeting is full', 807: 'Already signed in',
    1000: 'Sending failed', 1100: 'The message is too large', 1101: 'The data is too large',
    1102: 'The user is not online', 1104: 'Unknown transfer', 1400: 'No such file', 1401: 'Cannot read the file',
    1405: 'The file is too large', 400: 'No such queue', 401: 'Nobody is waiting', 402: 'The customer is no longer waiting',
    403: 'You do not serve that queue', 404: 'You are already waiting in a queue', 8002: 'Permission to use the device was denied', 8007: 'The device could not be opened',
  };
  const describe = (code) => (messages[code] || 'Error') + ' (' + code + ')';

  function toast(text, kind) {
    const t = el('div', 'toast ' + (kind || ''), text);
    $('toasts').appendChild(t);
    setTimeout(() => t.classList.add('out'), 4200);
    setTimeout(() => t.remove(), 4700);
  }

  function hue(s) {
    let h = 0;
    for (const ch of String(s)) h = (h * 31 + ch.codePointAt(0)) % 360;
    return h;
  }

  function initials(name) {
    const parts = String(name || '?').trim().split(/[\s._-]+/).filter(Boolean);
    const s = parts.length > 1 ? parts[0][0] + parts[1][0] : (parts[0] || '?').slice(0, 2);
    return s.toUpperCase();
  }

  function avatar(e, name) {
    e.textContent = initials(name);
    e.style.setProperty('--hue', hue(name));
    return e;
  }

  function nameOf(uid) {
    if (state.me && uid === state.me.userID) return state.me.nickName;
    return CRVideo_GetMemberNickName(uid) || uid;
  }

  function show(id, on) {
    $(id).hidden = !on;
  }

  function setPane(pane) {
    document.querySelectorAll('.tab').forEach((t) => t.classList.toggle('active', t.dataset.pane === pane));
    document.querySelectorAll('.pane').forEach((p) => p.classList.toggle('active', p.id === pane));
    if (pane === 'side-pane') {
      state.unread = 0;
      show('chat-badge', false);
    }
  }

  // ------------------------------------------------------------------
  // Sign in and out.

  const saved = JSON.parse(localStorage.getItem('crvnode-demo') || '{}');
  $('login-server').value = saved.server || '';
  $('login-app').value = saved.app || 'demo';
  $('login-user').value = saved.user || '';
  $('login-nick').value = saved.nick || '';
  if (saved.server || (saved.app && saved.app !== 'demo')) $('login-advanced').open = true;

  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const server = $('login-server').value.trim();
    const app = $('login-app').value.trim();
    const user = $('login-user').value.trim();
    const nick = $('login-nick').value.trim();
    localStorage.setItem('crvnode-demo', JSON.stringify({ server, app, user, nick }));
    show('login-error', false);
    $('login-button').disabled = true;
    $('login-button').textContent = 'Signing in…';
    CRVideo_Init();
    CRVideo_SetServerAddr(server);
    CRVideo_Login(app, md5($('login-secret').value), nick, user, '', nick);
  });

  CRVideo_LoginSuccess.callback = (userID, nick) => {
    state.me = { userID, nickName: nick };
    $('login-button').disabled = false;
    $('login-button').textContent = 'Sign in';
    show('login-view', false);
    show('app-view', true);
    $('me-name').textContent = nick;
    avatar($('me-avatar'), nick);
    CRVideo_GetUserStatus();
    CRVideo_StartUserStatusNotify();
    CRVideo_GetMeetings();
    renderTargets();
    deskStart();
    const q = new URLSearchParams(location.search).get('meetID');
    if (q) $('join-id').value = q;
  };

  CRVideo_LoginFail.callback = (code) => {
    $('login-button').disabled = false;
    $('login-button').textContent = 'Sign in';
    $('login-error').textContent = describe(code);
    show('login-error', true);
  };

  function signedOut(text) {
    resetMeeting();
    closeIncoming();
    deskReset();
    desk.titles.clear();
    state.me = null;
    state.call = null;
    state.users.clear();
    state.invites.clear();
    show('call-banner', false);
    show('app-view', false);
    show('login-view', true);
    if (text) {
      $('login-error').textContent = text;
      show('login-error', true);
    }
  }

  $('logout-button').addEventListener('click', () => {
    CRVideo_Logout();
    signedOut('');
  });

  CRVideo_LineOff.callback = (code) => signedOut(describe(code));

  $('dnd-toggle').addEventListener('change', (e) => {
    CRVideo_SetDNDStatus(e.target.checked ? 1 : 0, e.target.checked ? 'on' : 'off');
  });
  CRVideo_SetDNDStatusSuccess.callback = (cookie) => {
    toast(cookie === 'on' ? 'Do not disturb is on' : 'Do not disturb is off');
    renderDesk();
  };
  CRVideo_SetDNDStatusFail.callback = (code, cookie) => {
    $('dnd-toggle').checked = cookie !== 'on';
    toast(describe(code), 'error');
    renderDesk();
  };

  // ------------------------------------------------------------------
  // People and presence.

  const statusText = ['Offline', 'Available', 'Busy', 'In a meeting'];

  CRVideo_GetUserStatusSuccess.callback = (list) => {
    state.users.clear();
    for (const u of list) state.users.set(u.userID, u);
    renderPeople();
  };
  CRVideo_GetUserStatusFail.callback = (code) => toast(describe(code), 'error');

  CRVideo_NotifyUserStatus.callback = (u) => {
    state.users.set(u.userID, u);
    if (state.me && u.userID === state.me.userID) $('dnd-toggle').checked = u.DNDType !== 0;
    renderPeople();
  };

  function personRow(u, action) {
    const li = el('li', 'person s' + u.userStatus);
    li.dataset.uid = u.userID;
    const av = avatar(el('span', 'avatar'), u.userID);
    av.appendChild(el('span', 'dot'));
    li.appendChild(av);
    const who = el('div', 'who');
    who.appendChild(el('span', 'name', u.userID));
    const st = el('span', 'status', statusText[u.userStatus] || '');
    if (u.DNDType) st.appendChild(el('span', 'dnd', 'Do not disturb'));
    who.appendChild(st);
    li.appendChild(who);
    if (action) li.appendChild(action);
    return li;
  }

  function renderPeople() {
    const me = state.me ? state.me.userID : '';
    const filter = $('people-filter').value.trim().toLowerCase();
    const list = [...state.users.values()]
      .filter((u) => u.userID !== me && (!filter || u.userID.toLowerCase().includes(filter)))
      .sort((a, b) => (b.userStatus > 0) - (a.userStatus > 0) || a.userID.localeCompare(b.userID));
    const ul = $('people-list');
    ul.replaceChildren();
    for (const u of list) {
      const b = el('button', 'small call-btn', state.meeting ? 'Invite' : 'Call');
      b.type = 'button';
      b.disabled = u.userStatus === 0 || u.DNDType !== 0 || (state.meeting ? CRVideo_IsUserInMeeting(u.userID) : !!state.call);
      b.dataset.uid = u.userID;
      b.addEventListener('click', () => (state.meeting ? invite(u.userID) : startCall(u.userID)));
      ul.appendChild(personRow(u, b));
    }
    if (!list.length) ul.appendChild(el('li', 'muted empty', filter ? 'Nobody matches.' : 'Nobody else has signed in yet.'));
    const online = [...state.users.values()].filter((u) => u.userStatus > 0 && u.userID !== me).length;
    $('people-count').textContent = online + ' online';
    renderTargets();
    renderDesk(); // calls and meetings change what the service desk allows
  }
  $('people-filter').addEventListener('input', renderPeople);

  // renderTargets fills the recipients of chat and files.
  function renderTargets() {
    const me = state.me ? state.me.userID : '';
    const online = [...state.users.values()].filter((u) => u.userStatus > 0 && u.userID !== me).map((u) => u.userID).sort();
    for (const id of ['chat-to', 'file-to']) {
      const sel = $(id);
      const keep = sel.value;
      sel.replaceChildren();
      if (id === 'chat-to') sel.appendChild(new Option(state.meeting ? 'Everyone in the meeting' : 'Everyone (join a meeting)', '*'));
      for (const uid of online) sel.appendChild(new Option((id === 'chat-to' ? 'Only ' : 'To ') + uid, uid));
      if (id === 'file-to' && !online.length) sel.appendChild(new Option('Nobody online', ''));
      if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
    }
  }

  // ------------------------------------------------------------------
  // Meetings.

  $('create-form').addEventListener('submit', (e) => {
    e.preventDefault();
    CRVideo_CreateMeeting($('create-subject').value.trim(), $('create-pswd').checked ? 1 : 0, 'create');
  });

  CRVideo_CreateMeetingSuccess.callback = (meetObj, cookie) => {
    if (cookie === 'desk') {
      deskCall(meetObj);
      return;
    }
    if (cookie === 'create') {
      $('create-subject').value = '';
      toast('Meeting "' + meetObj.subject + '" created');
      CRVideo_GetMeetings();
      return;
    }
    // A meeting made for a call: ring the callee.
    const callee = cookie;
    const callID = CRVideo_Call(callee, meetObj, '', callee);
    state.call = { callID, peer: callee, meetObj, role: 'caller', connected: false };
    banner('Calling ' + callee + '…');
    renderPeople();
  };
  CRVideo_CreateMeetingFail.callback = (code, cookie) => {
    if (cookie === 'desk') desk.accepting = null;
    toast(describe(code), 'error');
    renderDesk();
  };

  CRVideo_GetMeetingsSuccess.callback = (list) => {
    state.meetings = list;
    renderMeetings();
  };
  CRVideo_GetMeetingsFail.callback = (code) => toast(describe(code), 'error');

  function renderMeetings() {
    const ul = $('meeting-list');
    ul.replaceChildren();
    for (const m of state.meetings) {
      const li = el('li', 'meeting');
      const info = el('div', 'who');
      info.appendChild(el('span', 'name', m.subject));
      info.appendChild(el('span', 'status', 'ID ' + m.ID + (m.pswd ? ' · password ' + m.pswd : '') + ' · ' + m.memberCount + ' in'));
      li.appendChild(info);
      const enter = el('button', 'small primary', state.meeting && state.meeting.ID === m.ID ? 'Joined' : 'Enter');
      enter.type = 'button';
      enter.disabled = !!(state.meeting && state.meeting.ID === m.ID);
      enter.addEventListener('click', () => enterMeeting(m));
      const del = el('button', 'small ghost', 'Delete');
      del.type = 'button';
      del.title = 'Destroy this meeting for everyone';
      del.addEventListener('click', () => CRVideo_DestroyMeeting(m.ID, String(m.ID)));
      li.append(enter, del);
      ul.appendChild(li);
    }
    if (!state.meetings.length) ul.appendChild(el('li', 'muted empty', 'Meetings you create show here.'));
  }

  CRVideo_DestroyMeetingRslt.callback = (code) => {
    if (code) toast(describe(code), 'error');
    CRVideo_GetMeetings();
  };

  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    enterMeeting({ ID: Number($('join-id').value.trim()), pswd: $('join-pswd').value.trim() });
  });

  function enterMeeting(meetObj) {
    state.entering = meetObj;
    CRVideo_EnterMeeting(meetObj.ID, meetObj.pswd || '', state.me.userID, state.me.nickName, String(meetObj.ID));
  }

  CRVideo_EnterMeetingRslt.callback = (code) => {
    const m = state.entering;
    state.entering = null;
    if (code) {
      toast('Cannot enter the meeting: ' + describe(code), 'error');
      return;
    }
    resetMeeting();
    state.meeting = m;
    const full = state.meetings.find((x) => x.ID === m.ID);
    if (full) state.meeting = full;
    show('stage-empty', false);
    show('stage', true);
    $('meeting-subject').textContent = desk.titles.get(m.ID) || state.meeting.subject || 'Meeting ' + m.ID;
    $('meeting-info').textContent = 'ID ' + m.ID + (m.pswd ? ' · password ' + m.pswd : '');
    for (const mem of CRVideo_GetAllMembers()) addTile(mem.userID, 1);
    for (const v of CRVideo_GetWatchableVideos()) if (v.videoID === 2) addTile(v.userID, 2);
    setPane('stage-pane');
    CRVideo_OpenMic(state.me.userID);
    CRVideo_OpenVideo(state.me.userID);
    systemLine('You joined ' + (desk.titles.get(m.ID) || state.meeting.subject || 'the meeting'));
    renderPeople();
    CRVideo_GetMeetings();
  };

  function leaveMeeting() {
    if (state.call) {
      CRVideo_HungupCall(state.call.callID, '', '');
      state.call = null;
      show('call-banner', false);
    }
    CRVideo_ExitMeeting();
    resetMeeting();
    CRVideo_GetMeetings();
  }
  $('leave-button').addEventListener('click', leaveMeeting);

  function resetMeeting() {
    for (const t of state.tiles.values()) {
      t.vobj.clear();
      t.root.remove();
    }
    state.tiles.clear();
    state.meeting = null;
    state.sharing = false;
    show('stage', false);
    show('stage-empty', true);
    setPressed('mic-button', false);
    setPressed('cam-button', false);
    setPressed('screen-button', false);
    if (state.me) {
      renderPeople();
      renderMeetings();
    }
  }

  CRVideo_UserEnterMeeting.callback = (uid) => {
    addTile(uid, 1);
    systemLine(nameOf(uid) + ' joined');
    renderPeople();
  };

  CRVideo_UserLeftMeeting.callback = (uid) => {
    const t = state.tiles.get(uid + '/1');
    systemLine((t ? t.root.querySelector('.tile-name').textContent : uid) + ' left');
    removeTile(uid, 1);
    removeTile(uid, 2);
    renderPeople();
  };

  CRVideo_MeetingStopped.callback = () => {
    toast('The meeting was ended by its creator');
    resetMeeting();
    CRVideo_GetMeetings();
  };

  CRVideo_MeetingDropped.callback = (reason) => {
    toast(reason === 1 ? 'You were removed from the meeting' : 'You left the meeting (' + reason + ')', 'error');
    resetMeeting();
  };

  $('copy-link').addEventListener('click', () => {
    const m = state.meeting;
    if (!m) return;
    const url = m.pubMeetUrl || location.origin + '/?meetID=' + m.ID;
    (navigator.clipboard ? navigator.clipboard.writeText(url) : Promise.reject(new Error('no clipboard')))
      .then(() => toast('Link copied'), () => toast(url));
  });

  // ------------------------------------------------------------------
  // The video grid.

  function addTile(uid, videoID) {
    const key = uid + '/' + videoID;
    if (state.tiles.has(key)) return;
    const own = state.me && uid === state.me.userID;
    const root = el('div', 'tile' + (videoID === 2 ? ' screen' : '') + (own ? ' own' : ''));
    root.dataset.uid = uid;
    root.dataset.video = videoID;
    const vobj = CRVideo_CreatVideoObj();
    root.appendChild(vobj.handler());
    const ph = el('div', 'placeholder');
    ph.appendChild(avatar(el('span', 'avatar large'), nameOf(uid)));
    root.appendChild(ph);
    const label = el('div', 'label');
    label.appendChild(el('span', 'mic-state'));
    label.appendChild(el('span', 'tile-name', (videoID === 2 ? nameOf(uid) + "'s screen" : nameOf(uid)) + (own ? ' (you)' : '')));
    root.appendChild(label);
    if (videoID === 2) $('grid').prepend(root);
    else $('grid').appendChild(root);
    state.tiles.set(key, { root, vobj });
    vobj.setVideo(uid, videoID); // after insertion: the object sizes the video to the tile
    refreshTile(uid);
    layoutGrid();
  }

  function removeTile(uid, videoID) {
    const key = uid + '/' + videoID;
    const t = state.tiles.get(key);
    if (!t) return;
    t.vobj.clear();
    t.root.remove();
    state.tiles.delete(key);
    layoutGrid();
  }

  function refreshTile(uid) {
    const t = state.tiles.get(uid + '/1');
    if (!t) return;
    t.root.classList.toggle('cam-off', CRVideo_GetVideoStatus(uid) !== ST_OPEN);
    t.root.classList.toggle('mic-off', CRVideo_GetAudioStatus(uid) !== ST_OPEN);
  }

  function layoutGrid() {
    const n = state.tiles.size;
    const g = $('grid');
    g.dataset.count = String(Math.min(n, 9));
    const screens = [...state.tiles.values()].some((t) => t.root.classList.contains('screen'));
    g.classList.toggle('solo', n <= 2 && !screens);
    g.classList.toggle('alone', n === 1);
  }

  function setPressed(id, on, busy) {
    const b = $(id);
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
    b.classList.toggle('busy', !!busy);
  }

  CRVideo_VideoStatusChanged.callback = (uid, oldStatus, newStatus) => {
    refreshTile(uid);
    if (state.me && uid === state.me.userID) setPressed('cam-button', newStatus === ST_OPEN, newStatus === ST_OPENING);
  };

  CRVideo_AudioStatusChanged.callback = (uid, oldStatus, newStatus) => {
    refreshTile(uid);
    if (state.me && uid === state.me.userID) setPressed('mic-button', newStatus === ST_OPEN, newStatus === ST_OPENING);
  };

  CRVideo_MicEnergyUpdate.callback = (uid, oldLevel, newLevel) => {
    const t = state.tiles.get(uid + '/1');
    if (!t) return;
    t.root.style.setProperty('--level', newLevel);
    t.root.classList.toggle('speaking', newLevel >= 3);
  };

  CRVideo_NotifyMediaError.callback = (code, source) => toast((source === 'mic' ? 'Microphone: ' : 'Camera: ') + describe(code), 'error');

  $('mic-button').addEventListener('click', () => {
    const me = state.me.userID;
    if (CRVideo_GetAudioStatus(me) === ST_OPEN) CRVideo_CloseMic(me);
    else CRVideo_OpenMic(me);
  });

  $('cam-button').addEventListener('click', () => {
    const me = state.me.userID;
    if (CRVideo_GetVideoStatus(me) === ST_OPEN) CRVideo_CloseVideo(me);
    else CRVideo_OpenVideo(me);
  });

  // Devices: the lists come from the browser once the user let the page
  // capture (before that there are no labels); a choice goes to the SDK,
  // which switches an open camera or mic at once.
  async function fillDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    const devs = await navigator.mediaDevices.enumerateDevices();
    const fill = (id, kind, fallback) => {
      const sel = $(id);
      const keep = sel.value;
      sel.replaceChildren(...[{ deviceId: '', label: 'Default' }].concat(devs.filter((d) => d.kind === kind && d.deviceId !== 'default'))
        .map((d, i) => { const o = document.createElement('option'); o.value = d.deviceId; o.textContent = d.label || fallback + ' ' + i; return o; }));
      sel.value = keep;
      if (sel.value !== keep) sel.value = '';
    };
    fill('dev-camera', 'videoinput', 'Camera');
    fill('dev-mic', 'audioinput', 'Microphone');
    fill('dev-speaker', 'audiooutput', 'Speaker');
    $('dev-speaker').closest('label').hidden = !('setSinkId' in HTMLMediaElement.prototype);
  }

  $('devices-button').addEventListener('click', () => {
    const open = $('devices-panel').hidden;
    $('devices-panel').hidden = !open;
    $('devices-button').setAttribute('aria-expanded', String(open));
    if (open) fillDevices().catch((e) => toast('Devices: ' + e.message, 'error'));
  });
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener('devicechange', () => { if (!$('devices-panel').hidden) fillDevices().catch(() => {}); });
  }
  $('dev-camera').addEventListener('change', (e) => CRVideo_SetCamera(e.target.value));
  $('dev-mic').addEventListener('change', (e) => CRVideo_SetMic(e.target.value));
  $('dev-speaker').addEventListener('change', (e) => CRVideo_SetSpeaker(e.target.value));

  $('screen-button').addEventListener('click', () => {
    if (state.sharing) CRVideo_StopScreenShare();
    else CRVideo_StartScreenShare();
  });

  CRVideo_StartScreenShareRslt.callback = (code) => {
    if (code) toast('Screen sharing: ' + describe(code), 'error');
  };
  CRVideo_StopScreenShareRslt.callback = (code) => {
    if (code) toast(describe(code), 'error');
  };

  CRVideo_NotifyScreenShareStarted.callback = (uid) => {
    if (state.me && uid === state.me.userID) {
      state.sharing = true;
      setPressed('screen-button', true);
    }
    addTile(uid, 2);
    systemLine(nameOf(uid) + ' is sharing the screen');
  };

  CRVideo_NotifyScreenShareStopped.callback = (uid) => {
    if (state.me && uid === state.me.userID) {
      state.sharing = false;
      setPressed('screen-button', false);
    }
    removeTile(uid, 2);
  };

  // ------------------------------------------------------------------
  // Calls and invites.

  function startCall(uid) {
    // The vendor's call flow: create a meeting, ring the callee with it,
    // enter it when the callee accepts.
    CRVideo_CreateMeeting('Call with ' + uid, 0, uid);
  }

  function banner(text) {
    $('call-banner-text').textContent = text;
    show('call-banner', true);
  }

  $('call-banner-hangup').addEventListener('click', () => {
    const c = state.call;
    if (!c) return;
    CRVideo_HungupCall(c.callID, '', '');
    endCall();
    if (state.meeting) leaveMeeting();
  });

  function endCall() {
    const c = state.call;
    state.call = null;
    show('call-banner', false);
    if (c && c.role === 'caller' && !c.connected) CRVideo_DestroyMeeting(c.meetObj.ID, 'call');
    renderPeople();
  }

  CRVideo_CallFail.callback = (callID, code) => {
    if (!state.call || state.call.callID !== callID) return;
    toast('Call failed: ' + describe(code), 'error');
    endCall();
  };

  CRVideo_NotifyCallAccepted.callback = (callID, meetObj) => {
    const c = state.call;
    if (!c || c.callID !== callID) return;
    c.connected = true;
    banner('In a call with ' + (c.peerName || c.peer));
    enterMeeting(meetObj);
  };

  CRVideo_NotifyCallRejected.callback = (callID, code) => {
    const c = state.call;
    if (!c || c.callID !== callID) return;
    toast(c.peer + ': ' + (code === 604 ? 'no answer' : 'declined'), 'error');
    endCall();
  };

  CRVideo_NotifyCallHungup.callback = (callID) => {
    if (state.incoming && state.incoming.callID === callID) {
      toast('Missed call from ' + state.incoming.callerID);
      closeIncoming();
      desk.taken = null;
      renderDesk();
      return;
    }
    const c = state.call;
    if (!c || c.callID !== callID) return;
    toast(c.peer + ' hung up');
    const inCallMeeting = state.meeting && c.meetObj && state.meeting.ID === c.meetObj.ID;
    state.call = null;
    show('call-banner', false);
    if (inCallMeeting && c.role === 'caller') {
      CRVideo_ExitMeeting();
      resetMeeting();
    } else if (inCallMeeting) {
      leaveMeeting();
    }
    renderPeople();
  };

  CRVideo_NotifyCallIn.callback = (callID, meetObj, callerID, usrExtDat) => {
    state.incoming = { callID, meetObj, callerID };
    avatar($('incoming-avatar'), callerID);
    // The call of an agent who took this customer from the queue.
    const fromDesk = desk.taken !== null && String(usrExtDat || '').startsWith('Service desk');
    if (fromDesk && meetObj && meetObj.ID) desk.titles.set(meetObj.ID, queueName(desk.taken) + ' · ' + callerID);
    $('incoming-title').textContent = callerID + (fromDesk ? ' is ready for you'
      : meetObj && meetObj.ID && meetObj.memberCount > 1 ? ' invites you' : ' is calling');
    $('incoming-text').textContent = (meetObj && meetObj.subject ? meetObj.subject : 'Video call') + (usrExtDat ? ' — ' + usrExtDat : '');
    const d = $('incoming');
    if (!d.open) d.showModal();
  };

  function closeIncoming() {
    state.incoming = null;
    const d = $('incoming');
    if (d.open) d.close();
  }

  $('incoming-accept').addEventListener('click', () => {
    const inc = state.incoming;
    if (!inc) return;
    CRVideo_AcceptCall(inc.callID, inc.meetObj, '', inc.callID);
  });

  $('incoming-reject').addEventListener('click', () => {
    const inc = state.incoming;
    if (!inc) return;
    CRVideo_RejectCall(inc.callID, '', '');
    closeIncoming();
    desk.taken = null;
    renderDesk();
  });

  CRVideo_AcceptCallSuccess.callback = (callID) => {
    const inc = state.incoming;
    closeIncoming();
    if (!inc || inc.callID !== callID) return;
    state.call = { callID, peer: inc.callerID, meetObj: inc.meetObj, role: 'callee', connected: true };
    desk.taken = null;
    banner('In a call with ' + inc.callerID);
    if (inc.meetObj && inc.meetObj.ID) enterMeeting(inc.meetObj);
    renderPeople();
  };

  CRVideo_AcceptCallFail.callback = (callID, code) => {
    toast('Cannot accept: ' + describe(code), 'error');
    closeIncoming();
  };

  function invite(uid) {
    const id = CRVideo_CallMoreParty(uid, null, '', uid);
    state.invites.set(id, uid);
    toast('Inviting ' + uid + '…');
  }

  CRVideo_CallMorePartyRslt.callback = (inviteID, code) => {
    if (code) {
      toast('Invite to ' + state.invites.get(inviteID) + ': ' + describe(code), 'error');
      state.invites.delete(inviteID);
    }
  };

  CRVideo_NotifyCallMorePartyStatus.callback = (inviteID, status) => {
    const uid = state.invites.get(inviteID);
    if (!uid || status === 0) return;
    toast(uid + ': ' + ['ringing', 'accepted', 'declined', 'no answer', 'hung up'][status], status === 1 ? '' : 'error');
    if (status !== 1) state.invites.delete(inviteID);
  };

  $('invite-button').addEventListener('click', () => {
    const me = state.me.userID;
    const ul = $('invite-list');
    ul.replaceChildren();
    const list = [...state.users.values()].filter((u) => u.userID !== me && u.userStatus > 0 && !CRVideo_IsUserInMeeting(u.userID));
    for (const u of list) {
      const b = el('button', 'small primary', 'Invite');
      b.type = 'button';
      b.disabled = u.DNDType !== 0;
      b.addEventListener('click', () => {
        invite(u.userID);
        b.disabled = true;
        b.textContent = 'Invited';
      });
      ul.appendChild(personRow(u, b));
    }
    if (!list.length) ul.appendChild(el('li', 'muted empty', 'Nobody else is online.'));
    $('invite-dialog').showModal();
  });
  $('invite-close').addEventListener('click', () => $('invite-dialog').close());

  // ------------------------------------------------------------------
  // Chat: meeting messages (SendMeetingCustomMsg) and private ones (SendCmd).

  function chatLine(from, text, opts) {
    const li = el('li', 'msg' + (opts && opts.mine ? ' mine' : '') + (opts && opts.private ? ' private' : ''));
    const head = el('div', 'msg-head');
    head.appendChild(el('span', 'msg-from', from));
    if (opts && opts.private) head.appendChild(el('span', 'msg-tag', opts.mine ? 'private to ' + opts.to : 'private'));
    head.appendChild(el('time', 'msg-time', new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })));
    li.appendChild(head);
    li.appendChild(el('div', 'msg-text', text));
    const log = $('chat-log');
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    if (!$('side-pane').classList.contains('active') && getComputedStyle($('side-pane')).display === 'none' && !(opts && opts.mine)) {
      state.unread++;
      $('chat-badge').textContent = String(state.unread);
      show('chat-badge', true);
    }
    return li;
  }

  function systemLine(text) {
    const li = el('li', 'msg system', text);
    $('chat-log').appendChild(li);
    $('chat-log').scrollTop = $('chat-log').scrollHeight;
  }

  function parseMsg(raw) {
    try {
      const m = JSON.parse(raw);
      if (m && typeof m.text === 'string') return m.text;
    } catch (e) { /* plain text */ }
    return String(raw);
  }

  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('chat-input').value.trim();
    if (!text) return;
    const to = $('chat-to').value;
    if (to === '*') {
      if (!state.meeting) {
        toast('Join a meeting to talk to everyone in it, or pick a person', 'error');
        return;
      }
      CRVideo_SendMeetingCustomMsg(JSON.stringify({ type: 'chat', text }), 'chat');
    } else {
      const li = chatLine(state.me.nickName, text, { mine: true, private: true, to });
      const taskID = CRVideo_SendCmd(to, JSON.stringify({ type: 'dm', text, from: state.me.nickName }), 'dm');
      pendingDMs.set(taskID, li);
    }
    $('chat-input').value = '';
  });

  const pendingDMs = new Map();
  CRVideo_SendCmdRlst.callback = (taskID, code) => {
    const li = pendingDMs.get(taskID);
    pendingDMs.delete(taskID);
    if (li && code) {
      li.classList.add('failed');
      li.title = describe(code);
      toast('Message not delivered: ' + describe(code), 'error');
    }
  };

  CRVideo_SendMeetingCustomMsgRslt.callback = (code) => {
    if (code) toast('Message not sent: ' + describe(code), 'error');
  };

  CRVideo_NotifyMeetingCustomMsg.callback = (uid, msg) => {
    const mine = state.me && uid === state.me.userID;
    chatLine(mine ? state.me.nickName : nameOf(uid), parseMsg(msg), { mine });
  };

  CRVideo_NotifyCmdData.callback = (uid, data) => {
    chatLine(uid, parseMsg(data), { private: true });
  };

  // ------------------------------------------------------------------
  // Files: SendFile with progress and cancel; received files as links.

  function formatSize(n) {
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KB';
    if (n < 1073741824) return (n / 1048576).toFixed(1) + ' MB';
    return (n / 1073741824).toFixed(2) + ' GB';
  }

  function transferRow(name, text) {
    const li = el('li', 'transfer');
    li.appendChild(el('span', 'file-icon'));
    const body = el('div', 'who');
    body.appendChild(el('span', 'name', name));
    const info = el('span', 'status', text);
    body.appendChild(info);
    const bar = el('progress');
    bar.max = 1;
    bar.value = 0;
    body.appendChild(bar);
    li.appendChild(body);
    $('transfers').prepend(li);
    return { li, info, bar };
  }

  $('file-input').addEventListener('change', (e) => {
    const to = $('file-to').value;
    const files = [...e.target.files];
    e.target.value = '';
    if (!to) {
      toast('Nobody is online to send files to', 'error');
      return;
    }
    for (const f of files) {
      const taskID = CRVideo_SendFile(to, f, to);
      const row = transferRow(f.name, 'To ' + to + ' · ' + formatSize(f.size));
      const cancel = el('button', 'small ghost', 'Cancel');
      cancel.type = 'button';
      cancel.addEventListener('click', () => CRVideo_CancelSend(taskID, ''));
      row.li.appendChild(cancel);
      state.transfers.set(taskID, { ...row, cancel, size: f.size, to });
    }
  });

  CRVideo_SendProgress.callback = (taskID, sent, total) => {
    const t = state.transfers.get(taskID);
    if (!t) return;
    t.bar.value = total ? sent / total : 1;
    t.info.textContent = 'To ' + t.to + ' · ' + formatSize(sent) + ' of ' + formatSize(total);
  };

  CRVideo_SendFileRlst.callback = (taskID, fileName, code) => {
    const t = state.transfers.get(taskID);
    if (!t) return;
    state.transfers.delete(taskID);
    t.cancel.remove();
    t.bar.value = code ? t.bar.value : 1;
    t.li.classList.add(code ? 'failed' : 'done');
    t.info.textContent = code ? 'Not sent: ' + describe(code) : 'Sent to ' + t.to + ' · ' + formatSize(t.size);
  };

  CRVideo_CancelSendRlst.callback = (taskID, code) => {
    const t = state.transfers.get(taskID);
    if (!t) return;
    if (code) {
      toast(describe(code), 'error');
      return;
    }
    state.transfers.delete(taskID);
    t.cancel.remove();
    t.li.classList.add('failed');
    t.info.textContent = 'Cancelled';
  };

  CRVideo_NotifyFileData.callback = (uid, url, name) => {
    const row = transferRow(name, 'From ' + uid);
    row.bar.remove();
    row.li.classList.add('received');
    const a = el('a', 'small button primary', 'Download');
    a.href = url;
    a.download = name;
    row.li.appendChild(a);
    toast(uid + ' sent you ' + name);
  };

  CRVideo_NotifyCancelSend.callback = () => toast('A file sent to you was cancelled', 'error');

  // ------------------------------------------------------------------
  // The service desk (the queue component): customers wait in a queue,
  // agents serve queues and are assigned the next customer; an agent who
  // accepts makes a meeting and calls the customer, and from there it is a
  // call like any other.

  function deskReset() {
    clearInterval(desk.timer);
    Object.assign(desk, {
      inited: false, error: 0, queues: [], statuses: new Map(), serving: new Set(), queuing: null,
      taken: null, assign: null, accepting: null, timer: 0,
    });
    closeAssign();
    renderDesk();
  }

  function setMode(mode) {
    desk.mode = mode;
    for (const b of document.querySelectorAll('.mode')) {
      const on = b.dataset.mode === mode;
      b.classList.toggle('active', on);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    show('desk-card', mode === 'desk');
    show('people-card', mode !== 'desk');
    show('meetings-card', mode !== 'desk');
    if (mode === 'desk' && state.me && desk.inited) CRVideo_RefreshAllQueueStatus();
    renderDesk();
  }
  document.querySelectorAll('.mode').forEach((b) => b.addEventListener('click', () => setMode(b.dataset.mode)));

  function queueName(queID) {
    const q = desk.queues.find((x) => x.queID === queID);
    return q ? q.name : 'queue ' + queID;
  }

  function duration(s) {
    s = Math.max(0, Math.floor(s));
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }

  function dndOn() {
    return $('dnd-toggle').checked;
  }

  function deskStart() {
    deskReset();
    CRVideo_InitQueueDat('desk');
  }

  CRVideo_InitQueueDatRslt.callback = (code) => {
    if (!state.me) return;
    if (code) {
      desk.error = code;
      renderDesk();
      return;
    }
    desk.inited = true;
    desk.queues = CRVideo_GetAllQueueInfo().slice().sort((a, b) => a.prio - b.prio || a.queID - b.queID);
    desk.serving = new Set(CRVideo_GetServingQueues());
    const w = CRVideo_GetQueuingInfo();
    desk.queuing = w.queID ? w : null;
    if (desk.serving.size) desk.role = 'agent';
    else if (desk.queuing) desk.role = 'customer';
    $('desk-role-' + desk.role).checked = true;
    CRVideo_RefreshAllQueueStatus();
    // Waiting times tick; the counts of queues one neither serves nor
    // waits in come only when asked.
    let n = 0;
    desk.timer = setInterval(() => {
      if (desk.queuing) renderQueuing();
      if (++n % 5 === 0 && desk.mode === 'desk' && state.me) CRVideo_RefreshAllQueueStatus();
    }, 1000);
    renderDesk();
  };

  CRVideo_QueueStatusChanged.callback = (st) => {
    desk.statuses.set(st.queID, st);
    renderQueues();
  };

  document.querySelectorAll('input[name="desk-role"]').forEach((r) => r.addEventListener('change', (e) => {
    desk.role = e.target.value;
    renderDesk();
  }));

  function renderDesk() {
    const agent = desk.role === 'agent';
    const busy = desk.serving.size > 0 || !!desk.queuing || !!desk.taken;
    // One role at a time: leave the queue, or stop serving, to switch.
    $('desk-role-customer').disabled = busy && agent;
    $('desk-role-agent').disabled = busy && !agent;
    show('desk-note', !agent);
    renderQueues();
    renderQueuing();
    renderAgent();
  }

  function renderQueues() {
    const ul = $('queue-list');
    ul.replaceChildren();
    const agent = desk.role === 'agent';
    let waiting = 0;
    for (const q of desk.queues) {
      const st = desk.statuses.get(q.queID) || { wait_num: 0, agent_num: 0, srv_num: 0 };
      waiting += st.wait_num;
      const serving = desk.serving.has(q.queID);
      const mine = desk.queuing && desk.queuing.queID === q.queID;
      const li = el('li', 'queue' + (serving || mine ? ' on' : ''));
      li.dataset.queid = String(q.queID);
      const count = el('span', 'wait-count' + (st.wait_num ? ' some' : ''), String(st.wait_num));
      count.title = st.wait_num + ' waiting';
      li.appendChild(count);
      li.appendChild(el('span', 'name', q.name));
      const line = el('span', 'stats');
      line.appendChild(el('b', '', st.wait_num + ' waiting'));
      line.append(' · ' + (st.agent_num === 1 ? '1 agent' : st.agent_num + ' agents') + (st.srv_num ? ' · ' + st.srv_num + ' with a customer' : ''));
      const b = el('button', 'small');
      b.type = 'button';
      if (agent) {
        b.className = 'small serve-btn' + (serving ? ' success' : ' primary');
        b.textContent = serving ? 'Serving' : 'Serve';
        b.title = serving ? 'Stop serving ' + q.name : 'Serve this queue: take customers of ' + q.name;
        b.addEventListener('click', () => {
          b.disabled = true;
          if (serving) CRVideo_StopService(q.queID, 'desk');
          else CRVideo_StartService(q.queID, 0, 'desk');
        });
      } else {
        b.className = 'small join-btn' + (mine ? ' ghost' : ' primary');
        b.textContent = mine ? 'Waiting' : 'Join queue';
        b.disabled = mine || !!desk.queuing || !!desk.taken || !!state.call || !!state.meeting;
        b.addEventListener('click', () => {
          b.disabled = true;
          CRVideo_StartQueuing(q.queID, $('desk-note').value.trim(), String(q.queID));
        });
      }
      li.appendChild(b);
      if (q.desc) li.appendChild(el('span', 'desc', q.desc));
      li.appendChild(line);
      ul.appendChild(li);
    }
    if (!desk.queues.length) {
      const text = desk.error ? 'The service desk is not available: ' + describe(desk.error)
        : desk.inited ? 'This app has no queues: the node\'s configuration lists them per app (queues:).' : 'Loading the queues…';
      ul.appendChild(el('li', 'muted empty', text));
    }
    $('desk-count').textContent = desk.queues.length ? waiting + ' waiting' : '';
    const badge = agent && desk.serving.size ? [...desk.serving].reduce((n, id) => n + ((desk.statuses.get(id) || {}).wait_num || 0), 0) : 0;
    $('desk-badge').textContent = String(badge);
    show('desk-badge', badge > 0 && desk.mode !== 'desk');
  }

  function renderQueuing() {
    const w = desk.queuing;
    show('queuing-box', !!w || !!desk.taken);
    if (desk.taken) {
      $('queuing-position').textContent = '✓';
      $('queuing-title').textContent = queueName(desk.taken);
      $('queuing-text').textContent = 'An agent is taking your call…';
      $('leave-queue').textContent = 'Close';
      show('leave-queue', true);
      return;
    }
    if (!w) return;
    const now = CRVideo_GetQueuingInfo();
    const info = now.queID === w.queID ? now : w;
    $('queuing-position').textContent = info.position > 0 ? String(info.position) : '…';
    $('queuing-title').textContent = info.position === 1 ? 'You are next in ' + queueName(info.queID)
      : info.position > 0 ? 'Number ' + info.position + ' in ' + queueName(info.queID) : 'Waiting in ' + queueName(info.queID);
    $('queuing-text').textContent = 'Waiting ' + duration(info.queuingTime);
    $('leave-queue').textContent = 'Leave';
    show('leave-queue', true);
  }

  function renderAgent() {
    const agent = desk.role === 'agent';
    show('agent-box', agent && desk.inited && desk.queues.length > 0);
    if (!agent) return;
    const names = desk.queues.filter((q) => desk.serving.has(q.queID)).map((q) => q.name);
    const paused = dndOn();
    const withCustomer = state.call && state.call.desk;
    $('agent-title').textContent = withCustomer ? 'With ' + state.call.peerName
      : names.length ? 'Serving ' + names.join(', ') : 'Not serving';
    $('agent-text').textContent = !names.length ? 'Choose the queues you take customers from.'
      : withCustomer ? 'The next customer comes when this call ends.'
        : paused ? 'Paused: do not disturb is on. Take the next customer when you are ready.'
          : 'Customers are assigned to you as you become free.';
    $('agent-box').classList.toggle('paused', paused && names.length > 0);
    show('next-customer', names.length > 0 && paused);
    $('next-customer').disabled = !!desk.assign || !!desk.accepting || !!state.call || !!state.meeting;
  }

  CRVideo_StartServiceRslt.callback = (queID, code) => {
    if (code) toast('Cannot serve ' + queueName(queID) + ': ' + describe(code), 'error');
    else desk.serving.add(queID);
    renderDesk();
  };

  CRVideo_StopServiceRslt.callback = (queID, code) => {
    if (code) toast(describe(code), 'error');
    else desk.serving.delete(queID);
    renderDesk();
  };

  CRVideo_StartQueuingRslt.callback = (code, cookie) => {
    if (code) {
      toast('Cannot join ' + queueName(Number(cookie)) + ': ' + describe(code), 'error');
    } else {
      const w = CRVideo_GetQueuingInfo();
      desk.queuing = w.queID ? w : { queID: Number(cookie), position: 0, queuingTime: 0 };
      desk.taken = null;
    }
    renderDesk();
  };

  CRVideo_StopQueuingRslt.callback = (code) => {
    if (code && code !== 401) toast(describe(code), 'error');
    desk.queuing = null;
    renderDesk();
  };

  $('leave-queue').addEventListener('click', () => {
    if (desk.taken) { // out of the queue already: an agent took the call but has not called (yet)
      desk.taken = null;
      renderDesk();
      return;
    }
    CRVideo_StopQueuing('leave');
  });

  CRVideo_QueuingInfoChanged.callback = (info) => {
    if (info.queID) {
      desk.queuing = info;
      desk.taken = null;
    } else if (desk.queuing) {
      // Out of the queue without leaving it: an agent took the customer.
      desk.taken = desk.queuing.queID;
      desk.queuing = null;
    }
    renderDesk();
  };

  // An assignment: the node's (AutoAssignUser) or asked for (ReqAssignUser).
  function openAssign(u) {
    desk.assign = u;
    avatar($('assign-avatar'), u.nickname || u.userID);
    $('assign-title').textContent = (u.nickname || u.userID) + ' is next';
    $('assign-text').textContent = queueName(u.queID) + ' · waited ' + duration(u.queuingTime);
    $('assign-note').textContent = u.usrExtDat;
    show('assign-note', !!u.usrExtDat);
    $('assign-accept').disabled = false;
    $('assign-reject').disabled = false;
    const d = $('assign-dialog');
    if (!d.open) d.showModal();
    renderAgent();
  }

  function closeAssign() {
    desk.assign = null;
    const d = $('assign-dialog');
    if (d.open) d.close();
  }

  // The prompt is answered with its buttons only (not Escape).
  $('assign-dialog').addEventListener('cancel', (e) => e.preventDefault());

  CRVideo_AutoAssignUser.callback = (u) => openAssign(u);

  CRVideo_CancelAssignUser.callback = (queID, uid) => {
    if (!desk.assign || desk.assign.userID !== uid) return;
    toast((desk.assign.nickname || uid) + ' is no longer waiting');
    closeAssign();
    renderAgent();
  };

  $('next-customer').addEventListener('click', () => {
    $('next-customer').disabled = true;
    CRVideo_ReqAssignUser('next');
  });

  CRVideo_ReqAssignUserRslt.callback = (code, u) => {
    if (code) toast(code === 401 ? 'Nobody is waiting' : describe(code), code === 401 ? '' : 'error');
    else openAssign(u);
    renderAgent();
  };

  $('assign-accept').addEventListener('click', () => {
    const u = desk.assign;
    if (!u) return;
    $('assign-accept').disabled = true;
    $('assign-reject').disabled = true;
    desk.accepting = u;
    CRVideo_AcceptAssignUser(u.queID, u.userID, 'accept');
  });

  $('assign-reject').addEventListener('click', () => {
    const u = desk.assign;
    if (!u) return;
    CRVideo_RejectAssignUser(u.queID, u.userID, 'reject');
    closeAssign();
    renderAgent();
  });

  CRVideo_ResponseAssignUserRslt.callback = (code, cookie) => {
    if (cookie !== 'accept') {
      if (code) toast(describe(code), 'error');
      return;
    }
    const u = desk.accepting;
    closeAssign();
    if (code || !u) {
      desk.accepting = null;
      toast(code === 402 ? 'The customer is no longer waiting' : describe(code), 'error');
      renderAgent();
      return;
    }
    // The customer is ours: a meeting for the two, then ring the customer with it.
    CRVideo_CreateMeeting2('desk');
  };

  // deskCall rings the accepted customer with the meeting made for them.
  function deskCall(meetObj) {
    const u = desk.accepting;
    desk.accepting = null;
    if (!u) return;
    const name = u.nickname || u.userID;
    const callID = CRVideo_Call(u.userID, meetObj, 'Service desk · ' + queueName(u.queID), 'desk');
    state.call = { callID, peer: u.userID, peerName: name, meetObj, role: 'caller', connected: false, desk: true };
    desk.titles.set(meetObj.ID, queueName(u.queID) + ' · ' + name);
    banner('Calling ' + name + '…');
    renderPeople();
    renderAgent();
  }

  // ------------------------------------------------------------------
  // Tabs (phone layout).

  document.querySelectorAll('.tab').forEach((t) => t.addEventListener('click', () => setPane(t.dataset.pane)));

  window.crvnodeDemo = { state, md5 }; // for the end-to-end tests
})();
