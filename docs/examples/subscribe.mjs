// subscribe.mjs — npm install graphql-ws ws
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const client = createClient({
  url: process.env.API_WS_URL ?? 'ws://127.0.0.1:8000/graphql',
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${process.env.API_KEY}` },
  on: { connected: (_socket, ack) => console.log('connected to worker', ack.pid) },
});

let lastId = process.env.AFTER ?? null; // store it: pass it back as `after` when reconnecting
const query = `subscription ($after: ID) {
  auditEvents(filter: {memberNumber: "M-100001", action: "loan.applied"}, after: $after) {
    id action entityType entityId createdAt member { memberNumber email }
  }
}`;

let received = 0;
const stop = client.subscribe(
  { query, variables: { after: lastId } },
  {
    next: ({ data, errors }) => {
      if (errors) return console.error('errors', JSON.stringify(errors));
      lastId = data.auditEvents.id;
      console.log(JSON.stringify(data.auditEvents));
      if (++received === Number(process.env.EVENTS ?? 1)) { stop(); client.dispose(); }
    },
    error: (error) => console.error('error', JSON.stringify(error)),
    complete: () => console.log('complete; last id', lastId),
  },
);
