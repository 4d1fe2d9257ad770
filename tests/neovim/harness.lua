-- Test driver, run as `nvim --headless -u harness.lua`: uses the asyncsense.lua
-- configuration that docs/neovim.md shows, opens a file, waits for the
-- diagnostics, applies the preferred quick fix through vim.lsp.buf.code_action()
-- (vim.ui.select answered as a user would), writes the buffer, waits for the
-- diagnostics to update, and writes what happened to $ASYNCSENSE_NVIM_OUT as JSON.
local env = vim.env
local report = { events = {} }

local function note(text)
  table.insert(report.events, text)
end

local function finish()
  local file = io.open(env.ASYNCSENSE_NVIM_OUT, 'w')
  file:write(vim.fn.json_encode(report))
  file:close()
  vim.cmd('qall!')
end

local function diagnostics(bufnr)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local lsp = d.user_data and d.user_data.lsp or {}
    table.insert(found, {
      lnum = d.lnum,
      col = d.col,
      end_col = d.end_col,
      code = d.code or lsp.code,
      source = d.source or lsp.source,
      severity = d.severity,
      message = d.message,
    })
  end
  return found
end

local function has_code(bufnr, code)
  for _, d in ipairs(diagnostics(bufnr)) do
    if d.code == code then
      return true
    end
  end
  return false
end

-- Pick the preferred code action, as a user would in the menu.
vim.ui.select = function(items, _, on_choice)
  for index, item in ipairs(items) do
    local action = item.action or item[2]
    if action and action.isPreferred then
      note('chose: ' .. action.title)
      return on_choice(item, index)
    end
  end
  note('no preferred action among ' .. #items)
  on_choice(nil, nil)
end

local function run()
  vim.cmd('filetype on')
  local asyncsense = dofile(env.ASYNCSENSE_NVIM_CONFIG)
  asyncsense.setup({ cmd = { env.ASYNCSENSE_PYTHON, '-m', 'asyncsense', 'server' } })
  vim.cmd('edit ' .. vim.fn.fnameescape(env.ASYNCSENSE_NVIM_FILE))
  local bufnr = vim.api.nvim_get_current_buf()
  report.version = tostring(vim.version().major) .. '.' .. tostring(vim.version().minor)
  local wait = tonumber(env.ASYNCSENSE_NVIM_WAIT or '') or 90000
  if not vim.wait(wait, function() return has_code(bufnr, 'blocking-call') end, 50) then
    note('timed out waiting for diagnostics; clients: ' .. vim.inspect(vim.tbl_map(function(c) return c.name end, vim.lsp.get_active_clients())) .. ' filetype=' .. vim.bo.filetype)
    report.first = diagnostics(bufnr)
    return finish()
  end
  report.first = diagnostics(bufnr)
  local client = (vim.lsp.get_clients or vim.lsp.get_active_clients)({ bufnr = bufnr })[1]
  report.offset_encoding = client.offset_encoding
  report.pull = client.server_capabilities.diagnosticProvider ~= nil
  for _, d in ipairs(report.first) do
    if d.code == 'blocking-call' then
      vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
      break
    end
  end
  local before = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
  vim.lsp.buf.code_action()
  local changed = vim.wait(30000, function()
    return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n') ~= before
  end, 50)
  if not changed then
    note('the quick fix did not change the buffer')
  end
  vim.cmd('write')
  vim.wait(30000, function() return not has_code(bufnr, 'blocking-call') end, 50)
  report.after = diagnostics(bufnr)
  finish()
end

vim.api.nvim_create_autocmd('VimEnter', {
  nested = true, -- :edit in here must fire FileType, which starts the server
  callback = function()
    local ok, err = pcall(run)
    if not ok then
      note('error: ' .. tostring(err))
      finish()
    end
  end,
})
