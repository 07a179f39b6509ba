/**
 * The demo's steps: interception, payload mangling, TTL rewriting, a TCP exchange, dropping.
 * Each prints what it does, the packets as they pass the router, and what the endpoints saw.
 * @module
 */
import { parsePacket } from '../../packet/mod.js';
import type { Sandbox } from '../sandbox.js';
import type { DemoNetwork } from './network.js';
import { withDivert, type StepOutput } from './divert_step.js';
import { pingFrom, tcpExchange, udpExchange } from './traffic.js';

export interface StepContext {
  box: Sandbox;
  net: DemoNetwork;
  out: StepOutput;
}

export interface Step {
  title: string;
  run(ctx: StepContext): Promise<boolean>;
}

const say = (out: StepOutput, s: string): void => out.line(`  ${s}`);

function cmd(out: StepOutput, where: string, text: string): void {
  const c = `$ ${text}`;
  say(out, `${c}${' '.repeat(Math.max(1, 62 - c.length))}(${where})`);
}

const intercept: Step = {
  title: 'Interception: the router diverts the ICMP it forwards, prints it, reinjects it',
  async run({ net, out }) {
    cmd(out, 'router', 'divert rules add -A forward -p icmp -j DIVERT 1');
    cmd(out, 'router', 'divert rules add -A forward -6 -p icmpv6 -j DIVERT 1');
    cmd(out, 'client', `ping -c 2 ${net.server4}; ping -6 -c 2 ${net.server6}`);
    const { result, packets } = await withDivert(out, net.router, 1, ['-A forward -p icmp', '-A forward -6 -p icmpv6'], () => 'reinject', async () => [
      await pingFrom(net.client, net.server4),
      await pingFrom(net.client, net.server6),
    ]);
    const [v4, v6] = result;
    say(out, `→ ping: ${v4!.received}/${v4!.sent} replies over IPv4, ${v6!.received}/${v6!.sent} over IPv6; ${packets} packets went through user space`);
    return v4!.received === v4!.sent && v6!.received === v6!.sent && packets >= 8;
  },
};

const mangleUdp: Step = {
  title: 'Mangling: rewrite a UDP payload on its way through the router',
  async run({ box, net, out }) {
    cmd(out, 'router', 'divert rules add -A forward -p udp --dport 9000 -j DIVERT 2');
    cmd(out, 'client', `send "hello, server" to ${net.server4}:9000`);
    const { result } = await withDivert(out, net.router, 2, ['-A forward -p udp --dport 9000'], (p) => {
      const payload = parsePacket(p.packet).payload;
      const text = Buffer.from(payload).toString('latin1');
      payload.set(Buffer.from(text.toUpperCase(), 'latin1'));
      return { verdict: 'reinject', note: `payload "${text}" → "${text.toUpperCase()}", checksum refilled` };
    }, () => udpExchange(box, net.client, net.server, net.server4, 9000, ['hello, server']));
    say(out, `→ the server received ${JSON.stringify(result[0] ?? null)}`);
    return result[0] === 'HELLO, SERVER';
  },
};

const rewriteTtl: Step = {
  title: 'Mangling: set the TTL of echo replies to 200 (ping prints it)',
  async run({ net, out }) {
    const plain = await pingFrom(net.client, net.server4, 1);
    say(out, `without divert, ping shows ttl=${plain.ttls[0] ?? '?'} (64, minus one hop)`);
    cmd(out, 'router', 'divert rules add -A forward -p icmp --icmp-type echo-reply -j DIVERT 3');
    const { result } = await withDivert(out, net.router, 3, ['-A forward -p icmp --icmp-type echo-reply'], (p) => {
      const ip = parsePacket(p.packet).ipv4!;
      const old = ip.ttl;
      ip.ttl = 200;
      return { verdict: 'reinject', note: `ttl ${old} → 200` };
    }, () => pingFrom(net.client, net.server4, 2));
    say(out, `→ now ping shows ttl=${result.ttls.join(', ttl=')}`);
    return result.ttls.length === 2 && result.ttls.every((t) => t === 200);
  },
};

const tcp: Step = {
  title: 'A small TCP exchange, every segment through user space',
  async run({ box, net, out }) {
    cmd(out, 'router', 'divert rules add -A forward -p tcp --dport 8080 -j DIVERT 4');
    cmd(out, 'router', 'divert rules add -A forward -p tcp --sport 8080 -j DIVERT 4');
    cmd(out, 'client', `send "GET /demo" to ${net.server4}:8080, read the answer`);
    const { result, packets } = await withDivert(out, net.router, 4, ['-A forward -p tcp --dport 8080', '-A forward -p tcp --sport 8080'], () => 'reinject',
      () => tcpExchange(box, net.client, net.server, net.server4, 8080, 'GET /demo'));
    say(out, `→ the client got ${JSON.stringify(result ?? null)} after ${packets} segments were diverted`);
    return result === 'ack:GET /demo';
  },
};

const drop: Step = {
  title: 'Dropping: datagrams whose payload contains "secret" never arrive',
  async run({ box, net, out }) {
    cmd(out, 'router', 'divert rules add -A forward -p udp --dport 9001 -j DIVERT 5');
    const texts = ['public note 1', 'secret plan', 'public note 2'];
    cmd(out, 'client', `send ${texts.map((t) => JSON.stringify(t)).join(', ')}`);
    const { result } = await withDivert(out, net.router, 5, ['-A forward -p udp --dport 9001'], (p) =>
      Buffer.from(parsePacket(p.packet).payload).includes('secret') ? { verdict: 'drop', note: 'contains "secret"' } : 'reinject',
    () => udpExchange(box, net.client, net.server, net.server4, 9001, texts));
    say(out, `→ the server received ${result.map((t) => JSON.stringify(t)).join(', ') || 'nothing'}`);
    return result.length === 2 && !result.some((t) => t.includes('secret'));
  },
};

export const STEPS: readonly Step[] = [intercept, mangleUdp, rewriteTtl, tcp, drop];
