package loaders

// Kind is the contract type of a column.
type Kind int

const (
	String     Kind = iota
	Timestamp       // RFC 3339 with zone, or integer epoch milliseconds; stored as UTC
	Bool            // true/false/1/0
	Int             // non-negative integer
	Money           // non-negative decimal, DECIMAL(18,4)
	Enum            // one of Column.Values, compared case-insensitively, stored lower-case
	StringList      // ';'-separated
)

func (k Kind) String() string {
	return [...]string{"string", "timestamp", "boolean", "integer", "amount", "enum", "list"}[k]
}

// Column is one column of a dataset's contract.
type Column struct {
	Name     string
	Kind     Kind
	Required bool
	Values   []string // Enum only
}

// Dataset is one input dataset of DESIGN §3.
type Dataset struct {
	Name     string
	Optional bool     // the whole dataset may be absent
	Key      []string // unique key; duplicates are quarantined
	// DateColumn makes a dataset dated: a new file replaces the rows of the
	// dates it covers. Reference datasets (no DateColumn) are snapshots: a
	// new file set replaces the whole table.
	DateColumn string
	Columns    []Column
}

// Column returns the named column of the contract.
func (d Dataset) Column(name string) (Column, bool) {
	for _, c := range d.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

func req(name string, k Kind) Column { return Column{Name: name, Kind: k, Required: true} }
func opt(name string, k Kind) Column { return Column{Name: name, Kind: k} }
func enum(name string, values ...string) Column {
	return Column{Name: name, Kind: Enum, Values: values}
}

// Datasets is the input contract of DESIGN §3, in load order.
var Datasets = []Dataset{
	{
		Name: "publishers", Key: []string{"publisher_id"},
		Columns: []Column{
			req("publisher_id", String), opt("name", String), enum("kind", "publisher", "network"),
			opt("entity_id", String), opt("email_hash", String), opt("phone_hash", String),
			opt("payout_hash", String), opt("address_hash", String), opt("ip", String),
			opt("country", String), opt("joined_at", Timestamp), opt("traffic_types", StringList),
		},
	},
	{
		Name: "sites", Key: []string{"publisher_id", "url"},
		Columns: []Column{
			req("publisher_id", String), req("url", String),
			enum("kind", "website", "social", "app", "extension", "email"),
		},
	},
	{
		Name: "sellers", Key: []string{"seller_id"},
		Columns: []Column{
			req("seller_id", String), opt("name", String), opt("entity_id", String),
			opt("email_hash", String), opt("phone_hash", String), opt("payout_hash", String),
			opt("country", String),
		},
	},
	{
		Name: "buyers", Optional: true, Key: []string{"buyer_id"},
		Columns: []Column{
			req("buyer_id", String), opt("email_hash", String), opt("phone_hash", String),
			opt("payment_hash", String), opt("address_hash", String), opt("device_id", String),
			opt("ip", String),
		},
	},
	{
		Name: "ads", Optional: true,
		Columns: []Column{
			req("publisher_id", String), opt("ad_id", String), opt("keyword", String),
			opt("title", String), opt("text", String), opt("display_url", String),
		},
	},
	{
		Name: "clicks", Key: []string{"click_id"}, DateColumn: "ts",
		Columns: []Column{
			req("click_id", String), req("ts", Timestamp), req("publisher_id", String),
			opt("sub_id", String), opt("ip", String), opt("ip_country", String),
			opt("user_agent", String), opt("device_id", String), opt("buyer_id", String),
			opt("referrer", String), opt("landing_url", String),
			enum("target_type", "product", "store", "category", "home", "campaign"),
			opt("target_id", String), opt("landed", Bool), opt("in_iframe", Bool),
			opt("opener", Bool), opt("visible", Bool), opt("viewport_w", Int),
			opt("viewport_h", Int), opt("dwell_ms", Int),
		},
	},
	{
		Name: "orders", Key: []string{"order_id"}, DateColumn: "ts",
		Columns: []Column{
			req("order_id", String), req("ts", Timestamp), req("buyer_id", String),
			req("amount_usd", Money), opt("publisher_id", String), opt("click_id", String),
			opt("buyer_ip", String), opt("buyer_device_id", String), opt("ship_country", String),
			opt("seller_id", String), opt("product_id", String), opt("category", String),
			enum("status", "paid", "completed", "refunded", "disputed", "cancelled"),
			opt("commission_usd", Money), opt("new_buyer", Bool), opt("coupon", Bool),
			opt("hot_sale", Bool), opt("address_hash", String), opt("payment_hash", String),
			opt("completed_at", Timestamp),
		},
	},
}

// DatasetByName returns the contract of the named dataset.
func DatasetByName(name string) (Dataset, bool) {
	for _, d := range Datasets {
		if d.Name == name {
			return d, true
		}
	}
	return Dataset{}, false
}
