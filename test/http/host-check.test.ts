import { describe, expect, it } from 'vitest';
import { allowedHostRules, isAllowedHost, isAllowedOrigin } from '../../src/http/host-check.js';

describe('allowed hosts for /mcp', () => {
  it('a loopback bind answers to the loopback names on its own port only', () => {
    const rules = allowedHostRules('127.0.0.1', 3000, []);
    for (const host of ['127.0.0.1:3000', 'localhost:3000', 'LOCALHOST:3000', '[::1]:3000']) {
      expect(isAllowedHost(host, rules), host).toBe(true);
    }
    for (const host of ['evil.example.com', 'evil.example.com:3000', '127.0.0.1:3001', '127.0.0.1', 'localhost', '', undefined]) {
      expect(isAllowedHost(host, rules), String(host)).toBe(false);
    }
  });

  it('a named bind answers to that name; extra names come from the configuration', () => {
    const rules = allowedHostRules('refunds.internal', 8080, ['api.example.com', 'localhost:9000']);
    expect(isAllowedHost('refunds.internal:8080', rules)).toBe(true);
    expect(isAllowedHost('localhost:8080', rules)).toBe(false);
    expect(isAllowedHost('api.example.com', rules)).toBe(true);
    expect(isAllowedHost('api.example.com:443', rules)).toBe(true);
    expect(isAllowedHost('localhost:9000', rules)).toBe(true);
    expect(isAllowedHost('localhost:9001', rules)).toBe(false);
  });

  it('a wildcard bind answers to the loopback names until the operator lists others', () => {
    const rules = allowedHostRules('0.0.0.0', 3000, []);
    expect(isAllowedHost('localhost:3000', rules)).toBe(true);
    expect(isAllowedHost('10.0.0.5:3000', rules)).toBe(false);
    expect(isAllowedHost('10.0.0.5:3000', allowedHostRules('0.0.0.0', 3000, ['10.0.0.5']))).toBe(true);
  });

  it('an IPv6 bind is compared in brackets, as the Host header writes it', () => {
    const rules = allowedHostRules('fd00::1', 3000, []);
    expect(isAllowedHost('[fd00::1]:3000', rules)).toBe(true);
    expect(isAllowedHost('[fd00::2]:3000', rules)).toBe(false);
  });

  it('refuses Host headers that are not a plain host', () => {
    const rules = allowedHostRules('127.0.0.1', 80, []);
    expect(isAllowedHost('127.0.0.1', rules)).toBe(true); // port 80 implied
    for (const host of ['user@127.0.0.1', '127.0.0.1/x', '127.0.0.1:80 evil', '127.0.0.1?x']) {
      expect(isAllowedHost(host, rules), host).toBe(false);
    }
  });

  it('an Origin must be one of the allowed hosts too; none at all is fine', () => {
    const rules = allowedHostRules('127.0.0.1', 3000, []);
    expect(isAllowedOrigin(undefined, rules)).toBe(true);
    expect(isAllowedOrigin('http://localhost:3000', rules)).toBe(true);
    expect(isAllowedOrigin('http://evil.example.com', rules)).toBe(false);
    expect(isAllowedOrigin('http://localhost:3001', rules)).toBe(false);
    expect(isAllowedOrigin('null', rules)).toBe(false);
    expect(isAllowedOrigin('file:///etc/passwd', rules)).toBe(false);
  });
});
