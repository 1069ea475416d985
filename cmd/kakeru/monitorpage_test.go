package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// chromiumPath is Debian's chromium (scripts/services.sh installs it for `make test`).
const chromiumPath = "/usr/bin/chromium"

// S-1: the built-in monitor page, in headless Chromium, shows the running job with its counts,
// abandon rates and abandon budget and its agents; an agent's state change made through the API
// appears on the page within 2 s, carried by the event stream.
func TestMonitorPageInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed (scripts/services.sh installs it as root: apt-get install -y chromium)", chromiumPath)
	}
	// Customers never answer: the agent stays available and can take a break.
	script := func(dial string) fsim.Fate {
		if strings.Contains(dial, "/agent-") {
			return fsim.Fate{Answer: true}
		}
		return fsim.Fate{Cause: "NO_ANSWER", Ring: time.Minute}
	}
	m, _, job := dialFixture(t, script, "09011110001")
	const admin, agentTok = "demo-admin-token", "demo-agent-1001-token"
	must(t, 200)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, agentTok, "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "agent 1001 available", func() bool { return session(t, m, 1001)["state"] == "available" })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	run := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(browser, a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	run("open the page", chromedp.Navigate("http://"+m.Addr()+"/monitor"))
	run("type the token", chromedp.SendKeys(chromedp.CSS("#token"), "demo-supervisor-token"))
	run("submit", chromedp.Click(chromedp.CSS("#login button")))
	const row = "#agent-1001"
	run("the agent's row", chromedp.WaitVisible(chromedp.CSS(row+" .state")))
	if s := text(row + " .state"); s != "available" {
		t.Fatalf("agent state on the page %q", s)
	}
	if s := text(fmt.Sprintf("#abandon-%d", job)); !strings.Contains(s, "24 h") || !strings.Contains(s, "30 d") {
		t.Fatalf("abandon rate on the page %q", s)
	}
	// P-2, issue 18: the campaign's abandon budget per window; nobody has answered yet, so
	// every window can take no abandon.
	if s := text(fmt.Sprintf("#budget-%d", job)); !strings.Contains(s, "today 0 more, 24 h 0 more, 30 d 0 more") {
		t.Fatalf("abandon budget on the page %q", s)
	}
	waitFor(t, "the event stream is live", func() bool { return text("#status") == "live" })

	changed := time.Now()
	must(t, 202)(call(t, m, agentTok, "POST", "/api/v1/agents/1001/state", map[string]any{"state": "break"}))
	_, err := chromedp.Run(browser, chromedp.Poll[bool](
		`document.querySelector("#agent-1001 .state") && document.querySelector("#agent-1001 .state").textContent === "break"`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(2*time.Second)))
	if err != nil {
		t.Fatalf("the break did not appear on the page within 2 s: %v (page shows %q)", err, text(row+" .state"))
	}
	t.Logf("break shown on the page %v after the API call", time.Since(changed).Round(time.Millisecond))
	if s := text(fmt.Sprintf("#counts-%d", job)); !strings.Contains(s, "dialed: ") {
		t.Fatalf("counts on the page %q", s)
	}
}
