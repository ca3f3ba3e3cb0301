package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// This machine's set: everything up to CAP_CHECKPOINT_RESTORE but CAP_SYS_RESOURCE.
const noSysResource = uint64(0x1fffeffffff)

func TestBoundingSetParsesProcStatus(t *testing.T) {
	status := "Name:\tcat\nCapPrm:\t0000000000000000\nCapBnd:\t000001fffeffffff\nCapAmb:\t0\n"
	got, err := boundingSet(status)
	if err != nil || got != noSysResource || got&(1<<24) != 0 {
		t.Fatalf("boundingSet = %x, %v", got, err)
	}
	if _, err := boundingSet("Name:\tcat\n"); err == nil {
		t.Fatal("no CapBnd line must be an error")
	}
}

func TestCapabilityTable(t *testing.T) {
	if len(capNames) != 41 || capNames[24] != "CAP_SYS_RESOURCE" || capNames[21] != "CAP_SYS_ADMIN" {
		t.Fatalf("capability table out of order: %d entries", len(capNames))
	}
}

func TestRewriteDropsCapabilitiesOutsideTheBoundingSet(t *testing.T) {
	spec := `{"ociVersion":"1.2.0","process":{"user":{"uid":4294967294},"capabilities":{
		"bounding":["CAP_CHOWN","CAP_SYS_RESOURCE","CAP_SYS_ADMIN","CAP_FUTURE"],
		"effective":["CAP_SYS_RESOURCE"],"permitted":["CAP_SYS_RESOURCE","CAP_KILL"],
		"inheritable":[],"ambient":["CAP_SYS_RESOURCE"]}},"root":{"path":"rootfs"}}`
	out, changed, err := rewriteSpec([]byte(spec), []string{"process", "capabilities"}, noSysResource)
	if err != nil || !changed {
		t.Fatalf("rewriteSpec: changed=%v err=%v", changed, err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	caps := got["process"].(map[string]any)["capabilities"].(map[string]any)
	want := map[string]any{
		"bounding":  []any{"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_FUTURE"}, // unknown names stay
		"effective": []any{}, "permitted": []any{"CAP_KILL"}, "inheritable": []any{}, "ambient": []any{},
	}
	if !reflect.DeepEqual(caps, want) {
		t.Fatalf("capabilities = %v", caps)
	}
	if !strings.Contains(string(out), `"uid":4294967294`) || got["root"] == nil {
		t.Fatalf("other fields changed: %s", out)
	}
}

func TestRewriteLeavesAnAllowedSpecAlone(t *testing.T) {
	spec := []byte(`{"capabilities":{"bounding":["CAP_SYS_RESOURCE"]}}`)
	out, changed, err := rewriteSpec(spec, []string{"capabilities"}, ^uint64(0))
	if err != nil || changed || string(out) != string(spec) {
		t.Fatalf("rewriteSpec changed an allowed spec: %s %v", out, err)
	}
	out, changed, err = rewriteSpec([]byte(`{"process":{}}`), []string{"process", "capabilities"}, 0)
	if err != nil || changed {
		t.Fatalf("no capabilities: %s %v", out, err)
	}
}

func TestSpecFileFollowsRuncArguments(t *testing.T) {
	cases := []struct {
		args       []string
		file, path string
	}{
		{[]string{"--root", "/run/r", "--log", "/l.json", "--log-format", "json", "create",
			"--bundle", "/b", "--pid-file", "/p", "id"}, "/b/config.json", "process/capabilities"},
		{[]string{"--systemd-cgroup", "run", "-d", "-b=/b2", "id"}, "/b2/config.json", "process/capabilities"},
		{[]string{"create", "id"}, "/cwd/config.json", "process/capabilities"},
		{[]string{"--root=/r", "exec", "--detach", "--process", "/tmp/p.json", "id"}, "/tmp/p.json", "capabilities"},
		{[]string{"exec", "-t", "id", "ls", "-p", "/x"}, "", ""},
		{[]string{"--root", "/r", "delete", "--force", "id"}, "", ""},
		{[]string{"--version"}, "", ""},
	}
	for _, c := range cases {
		file, path := specFile(c.args, "/cwd")
		if file != c.file || strings.Join(path, "/") != c.path {
			t.Errorf("specFile(%q) = %q %v, want %q %q", c.args, file, path, c.file, c.path)
		}
	}
}

func TestRewriteFileKeepsTheMode(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(file, []byte(`{"process":{"capabilities":{"bounding":["CAP_SYS_RESOURCE"]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rewriteFile(file, []string{"process", "capabilities"}, noSysResource); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(file)
	info, _ := os.Stat(file)
	if string(data) != `{"process":{"capabilities":{"bounding":[]}}}` || info.Mode().Perm() != 0o600 {
		t.Fatalf("rewritten file: %s mode %v", data, info.Mode())
	}
}
