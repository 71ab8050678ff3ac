package wcfake

import (
	"encoding/json"
	"net/http"
	"testing"
)

func get(t *testing.T, s *Server, path, user, pass string) (int, http.Header, any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v any
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, v
}

func TestAuthAndRoutes(t *testing.T) {
	t.Parallel()
	s := New(t, "ck", "cs")
	for _, creds := range [][2]string{{"", ""}, {"ck", "bad"}, {"bad", "cs"}} {
		status, _, v := get(t, s, APIPrefix+"/orders", creds[0], creds[1])
		m, _ := v.(map[string]any)
		data, _ := m["data"].(map[string]any)
		if status != 401 || m["code"] != "woocommerce_rest_cannot_view" || m["message"] == "" || data["status"] != float64(401) {
			t.Errorf("creds %v: %d %v", creds, status, v)
		}
	}
	status, _, v := get(t, s, APIPrefix+"/products", "ck", "cs")
	if m, _ := v.(map[string]any); status != 404 || m["code"] != "rest_no_route" {
		t.Errorf("unknown route: %d %v", status, v)
	}
	status, _, v = get(t, s, APIPrefix+"/orders?per_page=500", "ck", "cs")
	if m, _ := v.(map[string]any); status != 400 || m["code"] != "rest_invalid_param" {
		t.Errorf("per_page 500: %d %v", status, v)
	}
	if n := len(s.Requests()); n != 5 {
		t.Errorf("recorded %d requests, want 5", n)
	}
}

func TestOrdersAndRefundSummary(t *testing.T) {
	t.Parallel()
	s := New(t, "ck", "cs")
	s.PutOrder([]byte(`{"id":9007199254740993,"date_created_gmt":"2025-01-02T00:00:00","date_modified_gmt":"2025-01-02T00:00:00","refunds":[]}`))
	s.PutOrderObject(map[string]any{"id": 2, "date_created_gmt": "2025-01-01T00:00:00", "date_modified_gmt": "2025-01-03T00:00:00"})
	s.AddRefund(9007199254740993, []byte(`{"id":30,"amount":"4.50","reason":"damaged","line_items":[]}`))
	s.AddRefund(9007199254740993, []byte(`{"id":30,"amount":"5.00","reason":"damaged","line_items":[]}`))

	// Default order: by creation date, newest first.
	status, h, v := get(t, s, APIPrefix+"/orders", "ck", "cs")
	list, _ := v.([]any)
	if status != 200 || len(list) != 2 || h.Get("X-WP-Total") != "2" || h.Get("X-WP-TotalPages") != "1" {
		t.Fatalf("list: %d %v %v", status, h, v)
	}
	// Re-read with UseNumber semantics: the big id must be intact.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+APIPrefix+"/orders/9007199254740993", nil)
	req.SetBasicAuth("ck", "cs")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var order struct {
		ID      json.Number `json:"id"`
		Refunds []struct {
			ID    json.Number `json:"id"`
			Total string      `json:"total"`
		} `json:"refunds"`
	}
	if err := json.NewDecoder(res.Body).Decode(&order); err != nil {
		t.Fatal(err)
	}
	if order.ID != "9007199254740993" || len(order.Refunds) != 1 || order.Refunds[0].ID != "30" || order.Refunds[0].Total != "-5.00" {
		t.Errorf("order = %+v", order)
	}
	status, _, v = get(t, s, APIPrefix+"/orders/9007199254740993/refunds", "ck", "cs")
	if l, _ := v.([]any); status != 200 || len(l) != 1 {
		t.Errorf("refunds: %d %v", status, v)
	}
	status, _, _ = get(t, s, APIPrefix+"/orders/77/refunds", "ck", "cs")
	if status != 404 {
		t.Errorf("refunds of unknown order: %d", status)
	}
}
