-- Fewer random index pages written per redemption at the counter (the
-- hottest write of the platform: bench/REDEEM_LOAD.md, "Third round").
--
-- A redemption marks its voucher redeemed: with `status` in the index by
-- person, that moved an entry in a page chosen by the member, one more page
-- to write per redemption. Nothing reads the index for the status (the
-- claim goes through `vouchers_one_per_person`; a member's own list filters
-- the few vouchers found by person).
DROP INDEX vouchers_person;
CREATE INDEX vouchers_person ON vouchers(person_id);

-- Redemptions were indexed by the member's union, then date: each insert
-- went to a page chosen by the member's union. By date alone (then row
-- id, which grows with time) every insert goes to the index's last page,
-- shared by the batch. What reads it — usage and figures over a period
-- within a subtree — takes the period's range and finds the union on the
-- row, stored in the same order.
DROP INDEX redemptions_org_date;
CREATE INDEX redemptions_date ON redemptions(on_date);
