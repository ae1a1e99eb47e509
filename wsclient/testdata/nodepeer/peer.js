// A WebSocket server written by someone else (npm ws), driven by
// wsclient's foreign-peer tests (nodepeer_s32peer_test.go).
//
// Flags (argv):
//   --no-auto-pong     never answer the client's pings (ws's autoPong: false)
//   --deflate          support permessage-deflate (perMessageDeflate: true)
//   --insist-deflate   name permessage-deflate in every answer, asked or not
//   --max-payload=<n>  close a connection whose client sends a message over n bytes (1009)
//
// It prints "listening <port>" once it listens on 127.0.0.1, then one line
// per thing it sees (payloads in hex):
//   open <conn> <hex of the request's Sec-WebSocket-Extensions> <hex of the subprotocol chosen> ("-": none)
//   message <conn> text|binary <hex>
//   ping <conn> <hex>          a ping from the client
//   pong <conn> <hex>          a pong from the client
//   close <conn> <code> <hex reason>
//   ok <seq>                   command seq done (its bytes handed to the kernel)
//   error <seq> <message>
//
// Commands come on stdin, one a line: "<seq> <conn> <verb> [args]" (conn 0:
// every connection still open), payloads in hex:
//   text <hex> | binary <hex>             one whole message
//   frag text|binary 0|1 <hex>            a fragment (ws.send with fin)
//   ping <hex> | pong <hex>               a control frame
//   close <code> <hex reason>             the close handshake (no code: an empty close frame)
//   terminate                             end TCP, no close frame
//   fill <n> <char>                       a text message of n chars
//   fillterminate <n> <char>              the same, then terminate at once (the frame cut short)
//   pingflood <n> <msg hex>               n pings (payload "p" * (i % 126)), then a text message
//   pingevery <ms> <n>                    n pings, one every ms, payload the ping's number
//   pause | resume                        stop / start reading the socket
//   raw <hex>                             bytes written to the socket as they are: frames
//                                         ws refuses to send (a close code 1005 or 1006 on
//                                         the wire, a control frame over 125 bytes or
//                                         fragmented, a data frame after the close frame,
//                                         a message begun inside another)
// The process ends when stdin ends.
'use strict';

const { WebSocketServer } = require('ws');
const readline = require('readline');

const args = new Set(process.argv.slice(2));
const out = (line) => process.stdout.write(line + '\n');
const hex = (b) => Buffer.from(b).toString('hex');

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  autoPong: !args.has('--no-auto-pong'),
  perMessageDeflate: args.has('--deflate'),
  maxPayload: Number((process.argv.find((a) => a.startsWith('--max-payload=')) || '=0').split('=')[1]),
});

if (args.has('--insist-deflate')) {
  wss.on('headers', (headers) => {
    if (!headers.some((h) => /^sec-websocket-extensions:/i.test(h))) {
      headers.push('Sec-WebSocket-Extensions: permessage-deflate');
    }
  });
}

const conns = new Map();
let next = 0;

wss.on('connection', (ws, req) => {
  const n = ++next;
  conns.set(n, ws);
  out(`open ${n} ${hex(req.headers['sec-websocket-extensions'] || '') || '-'} ${hex(ws.protocol) || '-'}`);
  ws.on('message', (data, isBinary) => out(`message ${n} ${isBinary ? 'binary' : 'text'} ${hex(data)}`));
  ws.on('ping', (data) => out(`ping ${n} ${hex(data)}`));
  ws.on('pong', (data) => out(`pong ${n} ${hex(data)}`));
  ws.on('close', (code, reason) => {
    out(`close ${n} ${code} ${hex(reason)}`);
    conns.delete(n);
  });
  ws.on('error', () => {});
});

wss.on('listening', () => out(`listening ${wss.address().port}`));

function run(seq, ws, verb, a, done) {
  const buf = (s) => Buffer.from(s || '', 'hex');
  switch (verb) {
    case 'text':
      return ws.send(buf(a[0]), { binary: false }, done);
    case 'binary':
      return ws.send(buf(a[0]), { binary: true }, done);
    case 'frag':
      return ws.send(buf(a[2]), { binary: a[0] === 'binary', fin: a[1] === '1' }, done);
    case 'ping':
      return ws.ping(buf(a[0]), undefined, done);
    case 'pong':
      return ws.pong(buf(a[0]), undefined, done);
    case 'close':
      if (a.length === 0) ws.close();
      else ws.close(Number(a[0]), buf(a[1]));
      return done();
    case 'terminate':
      ws.terminate();
      return done();
    case 'fill':
      return ws.send(Buffer.alloc(Number(a[0]), a[1]), { binary: false }, done);
    case 'fillterminate':
      ws.send(Buffer.alloc(Number(a[0]), a[1]), { binary: false });
      ws.terminate();
      return done();
    case 'pingflood': {
      for (let i = 0; i < Number(a[0]); i++) ws.ping(Buffer.alloc(i % 126, 'p'));
      return ws.send(buf(a[1]), { binary: false }, done);
    }
    case 'pingevery': {
      let i = 0;
      const total = Number(a[1]);
      const t = setInterval(() => {
        if (ws.readyState !== ws.OPEN || i >= total) {
          clearInterval(t);
          return done();
        }
        ws.ping(Buffer.from(String(i++)));
      }, Number(a[0]));
      return undefined;
    }
    case 'raw':
      return ws._socket.write(buf(a[0]), () => done());
    case 'pause':
      ws._socket.pause();
      return done();
    case 'resume':
      ws._socket.resume();
      return done();
    default:
      return done(new Error(`unknown verb ${verb}`));
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [seq, conn, verb, ...a] = line.trim().split(' ');
  // Connection 0 is every open connection, in the order they opened (a
  // venue's broadcast).
  const targets =
    conn === '0'
      ? [...conns.values()].filter((ws) => ws.readyState === ws.OPEN)
      : [conns.get(Number(conn))].filter(Boolean);
  if (targets.length === 0) {
    out(`error ${seq} no connection ${conn}`);
    return;
  }
  let left = targets.length;
  let failed = null;
  const done = (err) => {
    failed = failed || err;
    if (--left === 0) out(failed ? `error ${seq} ${failed.message}` : `ok ${seq}`);
  };
  for (const ws of targets) {
    try {
      run(seq, ws, verb, a, done);
    } catch (err) {
      done(err);
    }
  }
});
rl.on('close', () => {
  for (const ws of conns.values()) ws.terminate();
  wss.close();
  process.exit(0);
});
