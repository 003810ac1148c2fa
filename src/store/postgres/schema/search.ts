/**
 * Search: a tsvector of each MESSAGE row, generated from its content, and a GIN index on it.
 *
 * `chat_search_text` is the one way text becomes words, for messages and queries alike: Latin
 * accents folded (unaccent), lower-cased, and punctuation and symbols (ASCII, Latin-1, general
 * and CJK punctuation, arrows, dingbats, emoji) turned into spaces, so a word is a run of
 * letters and digits of any script, as in the SQLite store's tokenizer. Without that, the
 * default parser keeps `foo@example.com`, `x.org/a` or `deploy.sh` as single tokens, and
 * `example` or `sh` would not find them. The 'simple' configuration then only lower-cases (no
 * stemming, no stop words); `채팅방에서` stays one word that `채팅:*` finds. The vector is
 * stripped of positions: a query is words, never phrases.
 *
 * unaccent() is only STABLE (it reads its dictionary), so an IMMUTABLE wrapper naming the
 * dictionary is what a generated column may call; the dictionary does not change under a
 * running server. A query is each word as a prefix (`'word':*`), all required.
 *
 * `chat_search` runs a search in one round trip. Its queries go through EXECUTE, which plans
 * them with the actual tsquery each time: how common the words are decides between walking
 * the scope newest first and stopping at the page (a common word) or reading the word's
 * entries in the GIN index (a rare one). A prepared statement of the client would soon be
 * planned once for any tsquery, and pick one of the two for every word.
 */
export const SEARCH = String.raw`
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE FUNCTION chat_search_text(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, $1)),
    '[\u0021-\u002f\u003a-\u0040\u005b-\u0060\u007b-\u007e\u00a1-\u00bf\u00d7\u00f7\u2000-\u2bff\u2e00-\u2e7f\u3000-\u303f\ufe30-\ufe4f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\U0001f000-\U0001faff]+',
    ' ', 'g') $$;
ALTER TABLE messages ADD COLUMN search tsvector
  GENERATED ALWAYS AS (CASE WHEN message_type = 'MESSAGE' THEN strip(to_tsvector('simple'::regconfig, chat_search_text(content))) END) STORED;
CREATE INDEX messages_search ON messages USING gin (search);
-- The query: each word of the text a quoted prefix term, all required; NULL when it has none.
-- Lexemes hold no quote or backslash (chat_search_text made them spaces); escaped anyway.
CREATE FUNCTION chat_search_query(text) RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT string_agg('''' || replace(replace(w, '\', '\\'), '''', '''''') || ''':*', ' & ')::tsquery
    FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, chat_search_text($1)))) AS w $$;
-- MESSAGE rows matching every word of p_text, newest first, older than p_before: in p_room, or
-- (p_room NULL) in the rooms p_user is in now.
CREATE FUNCTION chat_search(p_user int8, p_room int8, p_text text, p_before int8, p_limit int4)
  RETURNS SETOF messages LANGUAGE plpgsql STABLE AS $$
DECLARE
  q tsquery := chat_search_query(p_text);
BEGIN
  IF q IS NULL OR p_limit <= 0 THEN
    RETURN;
  ELSIF p_room IS NOT NULL THEN
    RETURN QUERY EXECUTE 'SELECT * FROM messages WHERE room_id = $1 AND id < $2 AND message_type = ''MESSAGE'' AND search @@ $3
      ORDER BY id DESC LIMIT $4' USING p_room, p_before, q, p_limit;
  ELSE
    RETURN QUERY EXECUTE 'SELECT * FROM messages WHERE room_id IN (SELECT room_id FROM participants WHERE user_id = $1)
      AND id < $2 AND message_type = ''MESSAGE'' AND search @@ $3 ORDER BY id DESC LIMIT $4' USING p_user, p_before, q, p_limit;
  END IF;
END $$;
`
