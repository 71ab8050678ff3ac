// Package browsertest drives Debian's chromium, headless, through
// chromedp for the page tests (adapters/httpapi/browser_test.go and the
// real WordPress test adapters/woocommerce/plugin/realwp_test.go):
// finding the browser, the screenshot folder, a tab at a width (a phone
// below 600 px), actions that leave a screenshot when they fail, and
// axe-core's serious and critical violations.
// Test-only: import it from _test.go files only.
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is $CHROMIUM, else the chromium on PATH; "" when there is none.
func Chromium() string {
	if c := os.Getenv("CHROMIUM"); c != "" {
		return c
	}
	for _, n := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// ScreenshotDir is $CREDITBRIDGE_SCREENSHOTS (default
// $TMPDIR/creditbridge-screenshots) joined with sub, created.
func ScreenshotDir(t testing.TB, sub ...string) string {
	t.Helper()
	dir := os.Getenv("CREDITBRIDGE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "creditbridge-screenshots")
	}
	dir = filepath.Join(append([]string{dir}, sub...)...)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Allocator runs chromium headless (no sandbox, GPU or /dev/shm, plus
// extra) until the test ends.
func Allocator(t testing.TB, chromium string, extra ...chromedp.ExecAllocatorOption) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancel := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	t.Cleanup(cancel)
	return ctx
}

// Page is one tab. Its screenshots are <Dir>/<Name>-<what>.png.
type Page struct {
	T    testing.TB
	Ctx  context.Context
	Dir  string
	Name string // width and language
	// Timeout bounds each Run and Eval (default 20 s).
	Timeout time.Duration
	// Viewport screenshots only the viewport, not the whole page.
	Viewport bool
}

// NewPage opens a tab of the allocator at width × height px (emulating a
// phone below 600 px); cancel closes it. The browser and the tab start on
// the tab's own context, not on a child with a timeout whose end would
// close them.
func NewPage(t testing.TB, allocator context.Context, dir, name string, width, height int64) (*Page, context.CancelFunc) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(allocator)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("start chromium: %v", err)
	}
	p := &Page{T: t, Ctx: ctx, Dir: dir, Name: name}
	var vp []chromedp.EmulateViewportOption
	if width < 600 {
		vp = append(vp, chromedp.EmulateMobile)
	}
	p.Run("viewport", chromedp.EmulateViewport(width, height, vp...))
	return p, cancel
}

func (p *Page) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return 20 * time.Second
}

// Run runs actions; a failure leaves the screenshot FAILED-<what> and
// fails the test.
func (p *Page) Run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, p.timeout())
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.Shot("FAILED-" + strings.ReplaceAll(what, " ", "-"))
		p.T.Fatalf("%s %s: %v", p.Name, what, err)
	}
}

// Shot saves a screenshot (a failure to take one is only logged).
func (p *Page) Shot(name string) {
	ctx, cancel := context.WithTimeout(p.Ctx, 15*time.Second)
	defer cancel()
	var buf []byte
	var err error
	if p.Viewport {
		buf, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	} else {
		buf, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	}
	if err != nil {
		p.T.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(p.Dir, p.Name+"-"+name+".png"), buf, 0o644); err != nil {
		p.T.Fatal(err)
	}
}

// Eval evaluates js in the page and returns its value.
func Eval[T any](p *Page, js string, opts ...chromedp.EvaluateOption) T {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, p.timeout())
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		p.Shot("FAILED-eval")
		p.T.Fatalf("%s: evaluate %.60s: %v", p.Name, js, err)
	}
	return v
}

// Violation is a serious or critical axe-core finding. Inside says that
// one of its nodes lies within the scope asked for (always, without one).
type Violation struct {
	Inside bool   `json:"inside"`
	Text   string `json:"text"`
}

// Axe runs axe-core (the script at axe) on the page and returns its
// serious and critical violations; scope (a CSS selector, "" for the whole
// page) names the markup under test, whose nodes the texts then show.
func (p *Page) Axe(axe, scope string) []Violation {
	p.T.Helper()
	src, err := os.ReadFile(axe)
	if err != nil {
		p.T.Fatal(err)
	}
	p.Run("axe", chromedp.Evaluate[chromedp.Void](string(src)))
	res := Eval[string](p, `axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
  var scope = `+strconv.Quote(scope)+`;
  return JSON.stringify(r.violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; }).map(function (v) {
    var ours = !scope ? v.nodes : v.nodes.filter(function (n) { try { var e = document.querySelector(n.target[0]); return !!(e && e.closest(scope)); } catch (x) { return false; } });
    return {inside: ours.length > 0, text: v.id + " (" + v.impact + "): " + v.help + " at " + (ours.length ? ours : v.nodes).slice(0, 3).map(function (n) { return n.target.join(" "); }).join(", ")};
  }));
})`, chromedp.EvalAwaitPromise)
	var found []Violation
	if err := json.Unmarshal([]byte(res), &found); err != nil {
		p.T.Fatalf("axe result %q: %v", res, err)
	}
	return found
}
