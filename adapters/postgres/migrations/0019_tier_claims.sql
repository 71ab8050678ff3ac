-- Guest claims and tiers (issues 9 and 11): a claimed guest's tier
-- activity counts for the registered customer its credit moved to, so the
-- tier queries look owner links up by their target.
CREATE INDEX owner_links_target ON owner_links (shop_id, to_kind, to_id);
