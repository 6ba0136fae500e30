-- Masked ID numbers keep only their last 4 characters (ident::mask_id): the
-- old form kept the first 6 as well, which beside the birth date stored in
-- `persons` gave back the whole number to anyone reading the database or a
-- page showing both. Every stored masked form is rewritten; the encrypted
-- number and its keyed hash are unchanged.
UPDATE persons SET id_masked = substr('******************************', 1, length(id_masked) - 4) || substr(id_masked, length(id_masked) - 3)
    WHERE length(id_masked) > 8;
UPDATE persons SET id_masked = substr('********', 1, length(id_masked) - 2) || substr(id_masked, length(id_masked) - 1)
    WHERE length(id_masked) > 4 AND length(id_masked) <= 8;
UPDATE join_requests SET id_masked = substr('******************************', 1, length(id_masked) - 4) || substr(id_masked, length(id_masked) - 3)
    WHERE length(id_masked) > 8;
UPDATE join_requests SET id_masked = substr('********', 1, length(id_masked) - 2) || substr(id_masked, length(id_masked) - 1)
    WHERE length(id_masked) > 4 AND length(id_masked) <= 8;
UPDATE transfers SET typed_id_masked = substr('******************************', 1, length(typed_id_masked) - 4) || substr(typed_id_masked, length(typed_id_masked) - 3)
    WHERE length(typed_id_masked) > 8;
UPDATE transfers SET typed_id_masked = substr('********', 1, length(typed_id_masked) - 2) || substr(typed_id_masked, length(typed_id_masked) - 1)
    WHERE length(typed_id_masked) > 4 AND length(typed_id_masked) <= 8;
