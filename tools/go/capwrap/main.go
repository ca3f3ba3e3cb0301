// Command capwrap is an OCI runtime wrapper installed in place of runc: it
// removes from the container's OCI spec every capability that its own
// process's capability bounding set lacks, then execs the real runc with the
// arguments unchanged. Why: the machines the kind tests run on have a
// bounding set without CAP_SYS_RESOURCE (bit 24). `docker run --privileged`
// and privileged pods ask for every capability the runtime knows, and runc
// then fails with "unable to apply caps: operation not permitted". No process
// here can hold a capability outside the bounding set anyway, so dropping
// those from the spec changes nothing else.
//
// On `create`/`run` it edits <bundle>/config.json (.process.capabilities;
// bundle from --bundle/-b, default the working directory); on `exec` it edits
// the file given by --process (.capabilities). The real runc is $CAPWRAP_RUNC
// or the first of /usr/sbin/runc, /usr/bin/runc, /usr/local/sbin/runc that is
// not capwrap itself.
package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// capNames is the Linux capability table: the index is the capability number.
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

var capLists = []string{"bounding", "effective", "inheritable", "permitted", "ambient"}

// runc flags of create/run/exec that take a value: the next argument is not positional.
var valueFlags = map[string]bool{
	"bundle": true, "b": true, "console-socket": true, "pid-file": true, "preserve-fds": true,
	"pidfd-socket": true, "cwd": true, "env": true, "e": true, "user": true, "u": true,
	"additional-gids": true, "g": true, "process": true, "p": true, "process-label": true,
	"apparmor": true, "cap": true, "c": true, "cgroup": true, "root": true, "log": true,
	"log-format": true, "criu": true, "rootless": true, // the last five: global flags
}

// boundingSet reads CapBnd from the text of /proc/self/status.
func boundingSet(status string) (uint64, error) {
	for _, line := range strings.Split(status, "\n") {
		if value, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			return strconv.ParseUint(strings.TrimSpace(value), 16, 64)
		}
	}
	return 0, fmt.Errorf("no CapBnd line in /proc/self/status")
}

// specFile finds the JSON file to edit for runc's arguments and the object path
// to the capabilities in it; "" when the command starts no process from a spec.
func specFile(args []string, cwd string) (string, []string) {
	command, i := "", 0
	for ; i < len(args) && command == ""; i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		switch {
		case !strings.HasPrefix(args[i], "-"):
			command = args[i]
		case valueFlags[name] && !hasValue:
			i++
		}
	}
	flags := map[string]string{}
	for ; i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--"; i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if valueFlags[name] && !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		flags[name] = value
	}
	switch command {
	case "create", "run":
		bundle := cmp.Or(flags["bundle"], flags["b"], cwd)
		return filepath.Join(bundle, "config.json"), []string{"process", "capabilities"}
	case "exec":
		if process := cmp.Or(flags["process"], flags["p"]); process != "" {
			return process, []string{"capabilities"}
		}
	}
	return "", nil
}

// rewriteSpec drops from the capability lists at path every capability whose
// bit is not in bounding; names it does not know stay. It reports whether
// anything changed; other fields keep their values (key order may change).
func rewriteSpec(data []byte, path []string, bounding uint64) ([]byte, bool, error) {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	var spec map[string]any
	if err := decoder.Decode(&spec); err != nil {
		return nil, false, err
	}
	object := spec
	for _, key := range path {
		next, ok := object[key].(map[string]any)
		if !ok {
			return data, false, nil
		}
		object = next
	}
	changed := false
	for _, list := range capLists {
		caps, ok := object[list].([]any)
		if !ok {
			continue
		}
		kept := []any{}
		for _, c := range caps {
			if name, ok := c.(string); ok && !allowed(name, bounding) {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		object[list] = kept
	}
	if !changed {
		return data, false, nil
	}
	out, err := json.Marshal(spec)
	return out, err == nil, err
}

func allowed(name string, bounding uint64) bool {
	for bit, known := range capNames {
		if strings.EqualFold(name, known) {
			return bounding&(1<<bit) != 0
		}
	}
	return true
}

func rewriteFile(file string, path []string, bounding uint64) error {
	data, err := os.ReadFile(file)
	info, statErr := os.Stat(file)
	if err != nil || statErr != nil {
		return cmp.Or(err, statErr)
	}
	out, changed, err := rewriteSpec(data, path, bounding)
	if err != nil || !changed {
		return err
	}
	tmp := file + ".capwrap" // rename: runc never reads a half-written spec
	if err := os.WriteFile(tmp, out, info.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// realRunc is $CAPWRAP_RUNC or the first runc on the usual paths that is not this program.
func realRunc() (string, error) {
	if path := os.Getenv("CAPWRAP_RUNC"); path != "" {
		return path, nil
	}
	self, _ := os.Executable()
	selfInfo, _ := os.Stat(self)
	for _, path := range []string{"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"} {
		info, err := os.Stat(path)
		if err == nil && (selfInfo == nil || !os.SameFile(info, selfInfo)) {
			return path, nil
		}
	}
	return "", fmt.Errorf("no runc found (set CAPWRAP_RUNC)")
}

func main() {
	status, err := os.ReadFile("/proc/self/status")
	bounding, parseErr := boundingSet(string(status))
	err = cmp.Or(err, parseErr)
	full := uint64(1)<<len(capNames) - 1
	cwd, _ := os.Getwd()
	if file, path := specFile(os.Args[1:], cwd); err == nil && file != "" && bounding&full != full {
		err = rewriteFile(file, path, bounding)
	}
	if err != nil { // runc still runs: it reports the failure, if any, itself
		fmt.Fprintf(os.Stderr, "capwrap: %v\n", err)
	}
	runc, err := realRunc()
	if err == nil {
		err = syscall.Exec(runc, append([]string{runc}, os.Args[1:]...), os.Environ())
	}
	fmt.Fprintf(os.Stderr, "capwrap: %v\n", err)
	os.Exit(127)
}
