-- asyncsense for Neovim's built-in LSP client (Neovim 0.7 and later, no plugin needed).
--
--   require('asyncsense').setup({
--     cmd = { 'asyncsense', 'server' },          -- or { '/path/to/python', '-m', 'asyncsense', 'server' }
--     settings = { ignore = { 'dangling-task' } }, -- select, ignore, severity, interpreter, ...
--   })
--
-- Starts one server per project root for Python buffers.  Neovim 0.8+ uses
-- vim.lsp.start(); 0.7 uses vim.lsp.start_client().  Neovim 0.10 and 0.11 pull
-- diagnostics but cannot be asked to pull again when another file changed
-- (workspace/diagnostic/refresh arrives in 0.12): this adds that handler, so a
-- helper module that starts blocking updates its callers' diagnostics at once.
local M = {}

local function project_root(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local start = name ~= '' and vim.fn.fnamemodify(name, ':p:h') or vim.fn.getcwd()
  for _, marker in ipairs({ 'pyproject.toml', 'setup.py', 'setup.cfg' }) do
    local found = vim.fn.findfile(marker, start .. ';')
    if found ~= '' then
      return vim.fn.fnamemodify(found, ':p:h')
    end
  end
  local git = vim.fn.finddir('.git', start .. ';')
  if git ~= '' then
    return vim.fn.fnamemodify(git, ':p:h:h')
  end
  return start
end

local function pull_again(_, _, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client then
    for bufnr in pairs(client.attached_buffers or {}) do
      local params = { textDocument = vim.lsp.util.make_text_document_params(bufnr) }
      client:request('textDocument/diagnostic', params, nil, bufnr)
    end
  end
  return vim.NIL
end

function M.config(opts, bufnr)
  opts = opts or {}
  local settings = opts.settings or {}
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  local handlers = {}
  local pulls = capabilities.textDocument and capabilities.textDocument.diagnostic
  if pulls and vim.fn.has('nvim-0.12') == 0 and vim.fn.has('nvim-0.11') == 1 then
    capabilities.workspace.diagnostics = capabilities.workspace.diagnostics or {}
    capabilities.workspace.diagnostics.refreshSupport = true
    handlers['workspace/diagnostic/refresh'] = pull_again
  end
  return {
    name = 'asyncsense',
    cmd = opts.cmd or { 'asyncsense', 'server' },
    root_dir = project_root(bufnr),
    capabilities = capabilities,
    handlers = handlers,
    init_options = { settings = settings },
    settings = { asyncsense = settings },
    on_attach = opts.on_attach,
  }
end

local started = {} -- Neovim 0.7: root -> client id

function M.setup(opts)
  vim.api.nvim_create_autocmd('FileType', {
    pattern = 'python',
    group = vim.api.nvim_create_augroup('asyncsense', { clear = true }),
    callback = function(args)
      local config = M.config(opts, args.buf)
      if vim.lsp.start then
        vim.lsp.start(config, { bufnr = args.buf })
      else
        local id = started[config.root_dir]
        if not id or not vim.lsp.get_client_by_id(id) then
          id = vim.lsp.start_client(config)
          started[config.root_dir] = id
        end
        vim.lsp.buf_attach_client(args.buf, id)
      end
    end,
  })
end

return M
