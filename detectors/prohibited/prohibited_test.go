package prohibited

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/fixtures/pages"
	"affwatch/rules"
)

func newEnv(t *testing.T) detectors.Env {
	t.Helper()
	return detectortest.Env(t, "r")
}

func corpusPage(t *testing.T, file string) Page {
	t.Helper()
	all, err := pages.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p.File == file {
			return CorpusPage(p.File, p.HTML)
		}
	}
	t.Fatalf("no corpus page %s", file)
	return Page{}
}

// crawl stores one visit of a site with its pages, as the crawler does.
func crawl(t *testing.T, env detectors.Env, crawlID, publisher, site string, at time.Time, ps ...Page) {
	t.Helper()
	ctx := context.Background()
	if _, err := env.DB.ExecContext(ctx, `INSERT INTO crawl_sites VALUES (?, 'r', ?, ?, NULL, NULL, 'ok', NULL, false, ?, 0, ?, ?)`,
		crawlID, publisher, site, len(ps), at, at.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if _, err := env.DB.ExecContext(ctx, `INSERT INTO crawl_pages (crawl_id, page_no, requested_url, final_url, http_status, title, meta_description, meta_keywords, visible_text, fetched_at, elapsed_ms)
			VALUES (?, ?, ?, ?, 200, ?, ?, ?, ?, ?, 10)`, crawlID, i, p.URL, p.URL, p.Title, p.Description, p.Keywords, p.Text, at); err != nil {
			t.Fatal(err)
		}
	}
}

func withURL(p Page, u string) Page { p.URL = u; return p }

type evidence struct {
	Category     string `json:"category"`
	Clause       string `json:"clause"`
	SiteURL      string `json:"site_url"`
	PagesFlagged int    `json:"pages_flagged"`
	PagesRead    int    `json:"pages_read"`
	Pages        []struct {
		URL        string  `json:"url"`
		TextLength int     `json:"text_length"`
		Density    float64 `json:"density"`
		Matches    []Match `json:"matches"`
	} `json:"pages"`
	Thresholds map[string]float64 `json:"thresholds"`
}

func TestRunEndToEnd(t *testing.T) {
	env := newEnv(t)
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	casino := corpusPage(t, "gambling-en-casino.html")
	review := corpusPage(t, "clean-en-gadget-review.html")
	news := corpusPage(t, "neg-en-gambling-regulation-news.html")
	crawl(t, env, "r/1", "GAMB", "https://spin.example/", at,
		withURL(review, "https://spin.example/"), withURL(casino, "https://spin.example/casino"))
	crawl(t, env, "r/2", "NEWS", "https://news.example/", at, withURL(news, "https://news.example/"))
	// OLD had a casino page a month ago; the newest visit is what counts
	crawl(t, env, "old/3", "OLD", "https://reformed.example/", at.AddDate(0, -1, 0), withURL(casino, "https://reformed.example/"))
	crawl(t, env, "r/3", "OLD", "https://reformed.example/", at, withURL(review, "https://reformed.example/"))

	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Publisher, Detector, Severity, Policy, Rule string }
	var got []row
	for _, f := range fs {
		got = append(got, row{f.PublisherID, f.Detector, f.Severity, f.PolicyRef, f.RuleID})
	}
	want := []row{{"GAMB", "prohibited_content", "high", "C.6.c–q, D.7", "AW-PR-001"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("findings (-want +got)\n%s", diff)
	}
	f := fs[0]
	var ev evidence
	if err := json.Unmarshal(f.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Category != "gambling" || ev.Clause != "C.6.h, D.7" || ev.SiteURL != "https://spin.example/" || ev.PagesFlagged != 1 || ev.PagesRead != 2 {
		t.Errorf("evidence %s", f.Evidence)
	}
	if len(ev.Pages) != 1 || ev.Pages[0].URL != "https://spin.example/casino" || ev.Pages[0].TextLength == 0 || ev.Pages[0].Density <= 0 {
		t.Fatalf("evidence pages %s", f.Evidence)
	}
	phrases := map[string]bool{}
	for _, m := range ev.Pages[0].Matches {
		phrases[m.Phrase] = true
		if m.Snippet == "" || utf8.RuneCountInString(m.Snippet) > 300 {
			t.Errorf("snippet of %q: %q", m.Phrase, m.Snippet)
		}
		if !strings.Contains(strings.ToLower(m.Snippet), strings.ToLower(strings.Fields(m.Phrase)[0])) {
			t.Errorf("snippet %q does not show %q", m.Snippet, m.Phrase)
		}
	}
	for _, p := range []string{"online casino", "free spins"} {
		if !phrases[p] {
			t.Errorf("evidence lacks %q: %v", p, phrases)
		}
	}
	if len(ev.Pages[0].Matches) > 8 || ev.Thresholds["min_strength"] == 0 || ev.Thresholds["min_density"] == 0 {
		t.Errorf("matches or thresholds: %s", f.Evidence)
	}
	if !strings.Contains(f.Summary, "https://spin.example/") || !strings.Contains(f.Summary, "gambling") || strings.Count(f.Summary, ".") < 1 {
		t.Errorf("summary %q", f.Summary)
	}
	if !f.WindowEnd.Equal(at.Add(5*time.Second)) || len(f.OrderIDs) != 0 || f.CommissionUSD != 0 {
		t.Errorf("window/orders: %+v", f)
	}
	again, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].FindingID != f.FindingID || string(again[0].Evidence) != string(f.Evidence) {
		t.Error("a re-run changed the finding")
	}
	if len(env.Signals.List()) != 0 {
		t.Errorf("signals %v", env.Signals.List())
	}
	// a later run with --no-crawl judges the same stored visits and says so
	env.RunID, env.Signals = "r2", &detectors.Signals{}
	later, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	if len(later) != 1 || later[0].FindingID != f.FindingID {
		t.Errorf("findings of the later run: %v", later)
	}
	if sig := env.Signals.List(); len(sig) != 1 || sig[0].Signal != "crawl_sites" {
		t.Errorf("signals of the later run: %v", sig)
	}
}

func TestRunWithoutCrawl(t *testing.T) {
	env := newEnv(t)
	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("findings without a crawl: %v", fs)
	}
	sig := env.Signals.List()
	if len(sig) != 1 || sig[0].Detector != "prohibited_content" || sig[0].Signal != "crawl_pages.visible_text" {
		t.Errorf("signals %v", sig)
	}
}

func TestClassifyCases(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(pack.Rules[RuleName])
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Our travel notes cover museums, trains, food markets and the weather in every season of the year. ", 60)
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"casino page", "Online casino with free spins and a no deposit bonus. Play slots and blackjack for real money.", []string{"gambling"}},
		{"one casino paragraph in a long page", long + "We also visited an online casino with free spins and a no deposit bonus. Play slots and blackjack. " + long, nil},
		{"negated tobacco notice", "We do not sell cigarettes or rolling tobacco to minors. We do not sell tobacco online at all.", nil},
		{"look-alike letters", "Сasinо 0nline: fr33 sp1ns, n0 dep0sit b0nus, bl4ckjack", []string{"gambling"}},
		{"spelled out", "p o r n and x x x videos, free porn, live sex cams", []string{"adult"}},
		{"escort agency in Russian", "Эскорт агентство: стоимость эскорт услуг, свидание 2 часа от 10000 рублей. Заказать эскорт в Москве через Telegram, каталог моделей.", []string{"adult"}},
		{"a car called Escort, in Russian", "Обзор Форд Эскорт 1995 года: двигатель, подвеска, расход топлива и стоимость запчастей. Эскорт до сих пор ездит по нашим дорогам.", nil},
		{"parental control review", "The app blocks porn and xxx sites for kids; parental controls filter adult sites and free porn search results.", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range m.Classify(Page{Text: tc.text}).Flagged() {
				got = append(got, c.Category)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestNormalizeText(t *testing.T) {
	for in, want := range map[string]string{
		"Casino ONLINE":          "casino online",
		"C4S1N0":                 "casino",
		"Саsinо":                 "casino", // Cyrillic С, а, о in a Latin word
		"кaзинo":                 "казино", // Latin a, o in a Cyrillic word
		"c.a.s.i.n.o":            "casino",
		"cas\u200bino":           "casino",
		"Apuéstas Ñandú":         "apuestas nandu",
		"ｃａｓｉｎｏ":                 "casino",
		"caaasino":               "caasino",
		"2024 mp3 18":            "2024 mp3 18",
		"Ёлка, йод":              "елка | иод",
		"we don't sell. Tobacco": "we don t sell | tobacco",
		"100mg 5g 18yo 1080p":    "100mg 5g 18yo 1080p", // quantities are not leetspeak
		"c🎰a🎰s🎰i🎰n🎰o":            "casino",
		"18+ 🔞 videos":           "18+ 🔞 videos",
	} {
		if got := NormalizeText(in); got != want {
			t.Errorf("NormalizeText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestModelRejectsBadLists(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	r := pack.Rules[RuleName]
	lists := map[string][]string{}
	for k, v := range r.Lists {
		lists[k] = v
	}
	lists["gambling.strong"] = append([]string{"... casino"}, lists["gambling.strong"]...)
	r.Lists = lists
	if _, err := NewModel(r); err == nil || !strings.Contains(err.Error(), "gambling.strong") {
		t.Errorf("error %v", err)
	}
}
