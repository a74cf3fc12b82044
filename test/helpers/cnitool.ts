/**
 * A cnitool built from Debian's libcni (golang-github-appc-cni-dev ships
 * the library but no cnitool): the short clone of RECIPES.md §4.6, with its
 * result cache in a directory of the caller's (CNI_CACHE_DIR) so tests never
 * touch /var/lib/cni. Built once per machine into a cache directory under
 * the temp dir (Go builds offline in about a second).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runOk, type RunResult } from './proc.js';

const LIBCNI_GOPATH = '/usr/share/gocode';

const MAIN_GO = `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

func die(e error) { fmt.Fprintln(os.Stderr, e); os.Exit(1) }

func main() {
	if len(os.Args) < 4 { fmt.Fprintln(os.Stderr, "usage: cnitool add|check|del <net> <netns>"); os.Exit(1) }
	dir := os.Getenv("NETCONFPATH"); if dir == "" { dir = "/etc/cni/net.d" }
	conf, err := libcni.LoadConfList(dir, os.Args[2]); if err != nil { die(err) }
	var capArgs map[string]interface{}
	if s := os.Getenv("CAP_ARGS"); s != "" { if err := json.Unmarshal([]byte(s), &capArgs); err != nil { die(err) } }
	var args [][2]string
	if s := os.Getenv("CNI_ARGS"); s != "" { for _, kv := range strings.Split(s, ";") { p := strings.SplitN(kv, "=", 2); if len(p) == 2 { args = append(args, [2]string{p[0], p[1]}) } } }
	ifn := os.Getenv("CNI_IFNAME"); if ifn == "" { ifn = "eth0" }
	ns, _ := filepath.Abs(os.Args[3]); cid := os.Getenv("CNI_CONTAINERID"); if cid == "" { cid = fmt.Sprintf("cnitool-%x", ns) }
	c := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")), os.Getenv("CNI_CACHE_DIR"), nil)
	rt := &libcni.RuntimeConf{ContainerID: cid, NetNS: ns, IfName: ifn, Args: args, CapabilityArgs: capArgs}
	switch os.Args[1] {
	case "add": r, err := c.AddNetworkList(context.TODO(), conf, rt); if r != nil { _ = r.Print() }; if err != nil { die(err) }
	case "check": if err := c.CheckNetworkList(context.TODO(), conf, rt); err != nil { die(err) }
	case "del": if err := c.DelNetworkList(context.TODO(), conf, rt); err != nil { die(err) }
	default: die(fmt.Errorf("unknown command"))
	}
}
`;

/** Builds cnitool (once) and resolves to its path. */
export async function buildCnitool(): Promise<string> {
  const dir = join(tmpdir(), 'ovnts-cnitool');
  const bin = join(dir, 'cnitool');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.go'), MAIN_GO);
  const tmpBin = `${bin}.${process.pid}`;
  await runOk('go', ['build', '-o', tmpBin, 'main.go'], {
    cwd: dir,
    env: { GOPATH: LIBCNI_GOPATH, GO111MODULE: 'off', GOCACHE: join(dir, '.cache'), HOME: dir },
    timeoutMs: 300_000,
  });
  await runOk('mv', ['-f', tmpBin, bin]);
  return bin;
}

export interface Cnitool {
  /** `cnitool add|check|del NET NETNS` with NETCONFPATH, CNI_PATH and the cache dir set; `env` adds CNI_ARGS, CAP_ARGS, CNI_IFNAME, CNI_CONTAINERID. */
  (verb: 'add' | 'check' | 'del', net: string, netns: string, env?: Readonly<Record<string, string>>): Promise<RunResult>;
}

export function cnitoolIn(bin: string, confDir: string, pluginDirs: readonly string[], cacheDir: string): Cnitool {
  return (verb, net, netns, env = {}) =>
    run(bin, [verb, net, netns], {
      env: { NETCONFPATH: confDir, CNI_PATH: pluginDirs.join(':'), CNI_CACHE_DIR: cacheDir, ...env },
      timeoutMs: 120_000,
    });
}
