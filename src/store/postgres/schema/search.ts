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
 * `chat_search` runs a search in one round trip, in two steps. The planner, given the actual
 * tsquery (EXECUTE plans each query afresh; a prepared statement would soon be planned once
 * for any tsquery), walks back by id and stops at the page for a word common on the server,
 * or reads a rare word's entries in the GIN index. The walk assumes the word is spread evenly:
 * a word common elsewhere and absent from the caller's rooms walked all 1,000,000 messages
 * (0.5-3 s measured). So the planner's choice runs only over the newest 20,000 ids (in one
 * room: over its newest 1,000 messages); below them, if the page is not full, plain index and
 * sequential scans are off (restored when the function returns), leaving the bitmap plan: the
 * word's GIN entries ANDed with the rooms' entries in messages_room (the rooms passed as an
 * array, one bitmap), then sorted. Measured at 1,000,000 messages: ~1-2 ms for a common, a
 * rare or an absent word, ~20-35 ms for a word in ~1% of messages (its GIN entries), ~25 ms
 * for a word common elsewhere and absent from the caller's 50 rooms.
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
  RETURNS SETOF messages LANGUAGE plpgsql STABLE
  SET enable_indexscan = on SET enable_seqscan = on AS $$
DECLARE
  q tsquery := chat_search_query(p_text);
  rooms int8[];
  scope text;
  low int8;
  found int;
BEGIN
  IF q IS NULL OR p_limit <= 0 THEN
    RETURN;
  END IF;
  rooms := CASE WHEN p_room IS NULL THEN ARRAY(SELECT room_id FROM participants WHERE user_id = p_user) ELSE ARRAY[p_room] END;
  IF cardinality(rooms) = 0 THEN
    RETURN;
  END IF;
  -- one room: an equality the (room_id, id) index serves in id order
  scope := CASE WHEN p_room IS NULL THEN 'room_id = ANY($3)' ELSE 'room_id = $4' END;
  -- 1: the planner's plan for the word's frequency, over the newest 20,000 ids (several rooms)
  -- or the room's newest 1,000 messages (an index-only probe; 0: the room has no more).
  IF p_room IS NULL THEN
    low := least(p_before, (SELECT last_id FROM event_sequence) + 1) - 20000;
  ELSE
    low := coalesce((SELECT id FROM messages WHERE room_id = p_room AND id < p_before ORDER BY id DESC OFFSET 999 LIMIT 1), 0);
  END IF;
  RETURN QUERY EXECUTE 'SELECT * FROM messages WHERE id >= $1 AND id < $2 AND ' || scope || '
    AND message_type = ''MESSAGE'' AND search @@ $5 ORDER BY id DESC LIMIT $6' USING low, p_before, rooms, p_room, q, p_limit;
  GET DIAGNOSTICS found = ROW_COUNT;
  -- 2: below them, only through the word's entries in the index (bitmaps), never a walk back.
  IF found < p_limit AND low > 0 THEN
    PERFORM set_config('enable_indexscan', 'off', true);
    PERFORM set_config('enable_seqscan', 'off', true);
    RETURN QUERY EXECUTE 'SELECT * FROM messages WHERE id < $1 AND room_id = ANY($2)
      AND message_type = ''MESSAGE'' AND search @@ $3 ORDER BY id DESC LIMIT $4' USING low, rooms, q, p_limit - found;
  END IF;
END $$;
`
