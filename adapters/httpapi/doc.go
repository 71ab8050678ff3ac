// Package httpapi is creditbridge's HTTP surface on fiber: the platform
// webhook endpoints (verify, store in the inbox, enqueue, 200), the admin
// and customer JSON APIs, the WooCommerce plugin API, the Shopify app
// endpoints, health checks and Prometheus metrics.
//
// Errors are mapped from core error codes to HTTP statuses in exactly one
// place (errorHandler); internal errors are logged and never shown.
package httpapi
