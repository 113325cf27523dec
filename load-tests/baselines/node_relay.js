// The "peer" baseline: the same minimal visitor <-> agent relay as beast_relay.cpp, on
// Node.js with the `ws` library, what many teams would pick instead. JSON frames only;
// acks are sent at once (nothing is durable). Binds 127.0.0.1 only.
// Usage: NODE_PATH=/usr/share/nodejs node node_relay.js <port>
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2]);
const conversations = new Map(); // id -> { visitor, agent, agentName, seq, summary }
const agents = [];
let nextAgent = 0;
let ids = 0;

function send(ws, frame) {
  if (ws && ws.readyState === 1) ws.send(JSON.stringify(frame));
}

function pickAgent() {
  for (let i = 0; i < agents.length; i++) {
    const a = agents[nextAgent++ % agents.length];
    if (a.readyState === 1) return a;
  }
  return null;
}

function onVisitor(ws, f) {
  if (f.type === 'hello') {
    ws.conv = 'c' + ++ids;
    // The agent sees the visitor's page, as in dynchat.
    const summary = f.page_url === undefined ? {} : { page_url: f.page_url };
    conversations.set(ws.conv, { visitor: ws, agent: null, agentName: '', seq: 0, summary });
    send(ws, { type: 'welcome', visitor_id: 'v' + ws.conv, conversation_id: ws.conv, resume_token: 't' + ws.conv,
               known: false, phase: 'waiting', last_seq: 0, config: {} });
    send(pickAgent(), { type: 'offer', conversation_id: ws.conv, visitor: summary, transcript: [], expires_in: 100 });
  } else if (f.type === 'say') {
    const c = conversations.get(ws.conv);
    if (!c) return;
    const seq = ++c.seq;
    send(ws, { type: 'ack', conversation_id: ws.conv, client_msg_id: f.client_msg_id, seq });
    send(c.agent, { type: 'message', conversation_id: ws.conv, seq, from: 'visitor', text: f.text, ts: Date.now() });
  }
}

function onAgent(ws, f) {
  const conv = f.conversation_id;
  if (f.type === 'hello') {
    ws.name = 'agent-' + ++ids;
    agents.push(ws);
    send(ws, { type: 'welcome', agent_id: ws.name, name: ws.name, status: 'offline', max_chats: 10, conversations: [] });
  } else if (f.type === 'status') {
    send(ws, { type: 'status', status: f.status });
  } else if (f.type === 'accept') {
    const c = conversations.get(conv);
    if (!c) return;
    c.agent = ws;
    send(ws, { type: 'chat', conversation_id: conv, visitor: c.summary, transcript: [] });
    send(c.visitor, { type: 'message', conversation_id: conv, seq: ++c.seq, from: 'system', agent: ws.name,
                      text: ws.name + ' joined the chat.', ts: Date.now() });
  } else if (f.type === 'say') {
    const c = conversations.get(conv);
    if (!c) return;
    const seq = ++c.seq;
    send(ws, { type: 'ack', conversation_id: conv, client_msg_id: f.client_msg_id, seq });
    send(c.visitor, { type: 'message', conversation_id: conv, seq, from: 'agent', agent: ws.name, text: f.text, ts: Date.now() });
  } else if (f.type === 'end') {
    const c = conversations.get(conv);
    if (!c) return;
    const ended = { type: 'ended', conversation_id: conv, reason: 'agent_ended' };
    send(ws, ended);
    send(c.visitor, ended);
    conversations.delete(conv);
  }
}

const server = http.createServer((req, res) => {
  // POST /v1/agents: the load tester creates its agents this way.
  req.resume();
  req.on('end', () => {
    res.writeHead(201, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id: 'a' + ++ids, token: 'relay-token' }));
  });
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  const isAgent = req.url.startsWith('/v1/agent');
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data) => {
      let f;
      try { f = JSON.parse(data); } catch (e) { return; }
      (isAgent ? onAgent : onVisitor)(ws, f);
    });
  });
});
server.listen(port, '127.0.0.1');
