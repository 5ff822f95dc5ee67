-- R19's search on a book of a million holders (issue 21). 040 indexed names as casella_fold(name):
-- the trigram index finds candidate rows, but every candidate is then checked, and ranked, by folding
-- its name again (unaccent is a dictionary lookup per character, some 3 µs a name), which made a
-- common surname cost as much folding as searching. The folded name is now kept in the row, computed
-- by the database on every insert and update (a generated column, so no code path can forget it),
-- and the trigram indexes are on it. The same for a company's name in the billing data, whose index
-- now holds only the rows that have one.
ALTER TABLE customers ADD COLUMN name_folded text GENERATED ALWAYS AS (casella_fold(name)) STORED;
ALTER TABLE billing_profiles ADD COLUMN company_name_folded text GENERATED ALWAYS AS (casella_fold(profile->>'companyName')) STORED;
DROP INDEX customers_name_trgm_idx;
DROP INDEX billing_profiles_company_trgm_idx;
CREATE INDEX customers_name_folded_trgm_idx ON customers USING gin (name_folded gin_trgm_ops);
CREATE INDEX billing_profiles_company_folded_trgm_idx ON billing_profiles USING gin (company_name_folded gin_trgm_ops)
  WHERE company_name_folded IS NOT NULL;
