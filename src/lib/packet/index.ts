/** Packet codecs: pure parse/build over bytes with explicit offsets and typed errors. */
export * from './errors.js';
export * from './addr.js';
export * from './checksum.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './udp.js';
export * from './icmp.js';
export * from './dhcp.js';
export * from './pcap.js';
