/**
 * Search: a tsvector of each MESSAGE row, generated from its content ('simple' configuration:
 * no stemming, no stop words, lowercased; accents folded by unaccent), and a GIN index on it.
 * A query is each word as a prefix (`word:*`), all required. unaccent() is only STABLE (it
 * reads its dictionary), so an IMMUTABLE wrapper naming the dictionary is what a generated
 * column may call; the dictionary does not change under a running server.
 */
export const SEARCH = `
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE FUNCTION chat_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
ALTER TABLE messages ADD COLUMN search tsvector
  GENERATED ALWAYS AS (CASE WHEN message_type = 'MESSAGE' THEN to_tsvector('simple'::regconfig, chat_fold(content)) END) STORED;
CREATE INDEX messages_search ON messages USING gin (search);
`
