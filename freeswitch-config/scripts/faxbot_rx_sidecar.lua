-- Writes <spool>/<uuid>.json next to a received fax, from the channel's hangup hook (needs mod_lua).
--
-- Called by the shipped dialplan as:  api_hangup_hook=lua faxbot_rx_sidecar.lua ${uuid}
-- The hook runs however the call ends (the sender usually hangs up right after the last page, so
-- dialplan actions after rxfax never run) and after spandsp has set the fax_* result variables.
-- Faxbot reads the file when it missed the ESL event (e.g. it was restarting). Nothing from the
-- caller reaches a shell: values are read with uuid_getvar and written JSON-escaped.
-- The file is written to "<name>.json.tmp" and renamed, so a reader never sees half a file.
-- Format (every value a string, possibly empty):
--   {"version":"1","source":"freeswitch","uniqueid":"…","tiff_path":"…","to_number":"…","from_number":"…",
--    "fax_success":"1","fax_result_code":"0","fax_result_text":"OK","fax_document_transferred_pages":"2",
--    "fax_remote_station_id":"…","hangup_cause":"NORMAL_CLEARING","end_epoch":"1795780219"}

local uuid = argv[1]
if uuid == nil or not string.match(uuid, "^[%x%-]+$") then
  freeswitch.consoleLog("WARNING", "faxbot_rx_sidecar: called without a channel uuid\n")
  return
end

local api = freeswitch.API()

local function var(name)
  local v = api:executeString("uuid_getvar " .. uuid .. " " .. name)
  if v == nil or v == "_undef_" or string.sub(v, 1, 4) == "-ERR" then
    return ""
  end
  return (string.gsub(v, "%s+$", ""))
end

-- rxfax never started (the caller hung up during answer): there is no fax to describe.
if var("fax_result_code") == "" then
  return
end

local tiff = var("fax_filename")
if tiff == "" then
  freeswitch.consoleLog("WARNING", "faxbot_rx_sidecar: no fax_filename on " .. uuid .. "\n")
  return
end

local function esc(s)
  return (string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then
      return '\\"'
    elseif c == "\\" then
      return "\\\\"
    end
    return string.format("\\u%04x", string.byte(c))
  end))
end

local fields = {
  { "version", "1" },
  { "source", "freeswitch" },
  { "uniqueid", uuid },
  { "tiff_path", tiff },
  { "to_number", var("faxbot_to") },
  { "from_number", var("faxbot_from") },
  { "fax_success", var("fax_success") },
  { "fax_result_code", var("fax_result_code") },
  { "fax_result_text", var("fax_result_text") },
  { "fax_document_transferred_pages", var("fax_document_transferred_pages") },
  { "fax_remote_station_id", var("fax_remote_station_id") },
  { "hangup_cause", var("hangup_cause") },
  { "end_epoch", tostring(os.time()) },
}

local parts = {}
for _, kv in ipairs(fields) do
  parts[#parts + 1] = '"' .. kv[1] .. '":"' .. esc(kv[2]) .. '"'
end
local json = "{" .. table.concat(parts, ",") .. "}\n"

local target = (string.gsub(tiff, "%.tiff?$", "")) .. ".json"
local tmp = target .. ".tmp"
local f, err = io.open(tmp, "w")
if f == nil then
  freeswitch.consoleLog("ERR", "faxbot_rx_sidecar: cannot write " .. tmp .. ": " .. tostring(err) .. "\n")
  return
end
f:write(json)
f:close()
local ok, rerr = os.rename(tmp, target)
if not ok then
  freeswitch.consoleLog("ERR", "faxbot_rx_sidecar: cannot rename " .. tmp .. ": " .. tostring(rerr) .. "\n")
end
